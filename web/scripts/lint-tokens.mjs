// "Tokens only" (STYLE.md §18): raw colours and lengths live in src/atum/tokens.css and nowhere
// else. Fails on hex colours, rgb()/hsl() and px/rem lengths in any other stylesheet, and on hex
// colours or px lengths in components. Media-query conditions are exempt (they cannot read
// custom properties).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const SRC = new URL("../src/", import.meta.url).pathname;
const TOKENS = join(SRC, "atum/tokens.css");

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const problems = [];
for (const file of walk(SRC)) {
  if (file === TOKENS) continue;
  const rel = relative(SRC, file);
  const lines = readFileSync(file, "utf8").split("\n");
  if (file.endsWith(".css")) {
    lines.forEach((line, i) => {
      if (/^\s*@media/.test(line) || /^\s*(\/\*|\*)/.test(line)) return;
      const m = line.match(/#[0-9a-fA-F]{3,8}\b|\b(?:rgba?|hsla?)\(|\b\d*\.?\d+(?:px|rem)\b/);
      if (m) problems.push(`${rel}:${i + 1}: raw value "${m[0]}" — use a token from atum/tokens.css`);
    });
  } else if (/\.tsx?$/.test(file) && !/\.test\.tsx?$/.test(file) && !rel.startsWith("test/") && !rel.startsWith("api/schema")) {
    lines.forEach((line, i) => {
      const m = line.match(/["'`]#[0-9a-fA-F]{3,8}["'`]|\b\d+px\b/);
      if (m) problems.push(`${rel}:${i + 1}: raw value "${m[0]}" — use a token`);
    });
  }
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log("tokens only: no raw colours or lengths outside src/atum/tokens.css");
