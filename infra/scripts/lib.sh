# Shell helpers shared by the ATUM DESK scripts (sourced, not run).
# shellcheck shell=bash

# _env_pairs FILE: "KEY<TAB>VALUE" for every assignment of an env file, read the way systemd reads
# an EnvironmentFile: KEY=VALUE lines, '#' and ';' comments, optional surrounding quotes. Nothing
# in the file is ever executed.
_env_pairs() {
  local line key value
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line#"${line%%[![:space:]]*}"}
    case "$line" in '' | '#'* | ';'*) continue ;; esac
    case "$line" in *=*) ;; *) continue ;; esac
    key=${line%%=*}
    key=${key%"${key##*[![:space:]]}"}
    value=${line#*=}
    value=${value#"${value%%[![:space:]]*}"}
    value=${value%"${value##*[![:space:]]}"}
    if [ "${#value}" -ge 2 ]; then
      case "$value" in
        \"*\") value=${value:1:${#value}-2} ;;
        \'*\') value=${value:1:${#value}-2} ;;
      esac
    fi
    printf '%s\t%s\n' "$key" "$value"
  done <"$1"
}

# env_file_value FILE KEY: print the value of KEY (the last assignment wins); fails when the file
# cannot be read or does not set KEY.
env_file_value() {
  local file=$1 wanted=$2 key value found=1 result=""
  [ -r "$file" ] || return 1
  while IFS=$'\t' read -r key value; do
    if [ "$key" = "$wanted" ]; then
      result=$value
      found=0
    fi
  done < <(_env_pairs "$file")
  [ "$found" -eq 0 ] || return 1
  printf '%s\n' "$result"
}

# export_env_file FILE: export every assignment of an env file.
export_env_file() {
  local key value
  [ -r "$1" ] || {
    echo "error: cannot read $1" >&2
    return 1
  }
  while IFS=$'\t' read -r key value; do
    if [[ ! $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
      echo "warning: $1: ignoring the malformed name '$key'" >&2
      continue
    fi
    export "$key=$value"
  done < <(_env_pairs "$1")
}
