import { useState, type FormEvent } from "react";
import { useMe } from "../../api/auth";
import { ApiError } from "../../api/client";
import { useOrgs } from "../../api/orgs";
import { CUSTOMER_ROLES, STAFF_ROLES, type Role, type User } from "../../api/types";
import {
  useCreateUser,
  useEndUserSessions,
  useResendInvitation,
  useResetUserMfa,
  useUpdateUser,
  useUsers,
  type UserFilter,
} from "../../api/users";
import {
  Button,
  Checkbox,
  EmptyState,
  ErrorState,
  Modal,
  Panel,
  ROLE_LABEL,
  SelectField,
  SkeletonRows,
  Table,
  TextField,
  useDebounced,
  useDocumentTitle,
  useToast,
  type Column,
} from "../../atum";
import { TwoFactorPill, UserStatusPill } from "./shared";
import { UserIdentities } from "./UserIdentities";

const ALL_ROLES: Role[] = [...STAFF_ROLES, ...CUSTOMER_ROLES];
// New users: least privileged first, and the default.
const NEW_USER_ROLES: Role[] = [...CUSTOMER_ROLES, ...STAFF_ROLES];

export function AdminUsersPage() {
  useDocumentTitle("Users");
  const me = useMe().data;
  const orgs = useOrgs();
  const [q, setQ] = useState("");
  const [orgId, setOrgId] = useState("");
  const [role, setRole] = useState<Role | "">("");
  const query = useDebounced(q.trim());
  const filter: UserFilter = { q: query || undefined, org_id: orgId || undefined, role: role || undefined };
  const users = useUsers(filter);
  const [editing, setEditing] = useState<User | "new" | null>(null);
  const [confirm, setConfirm] = useState<{ kind: "mfa" | "sessions"; user: User } | null>(null);
  const resend = useResendInvitation();
  const isAdmin = me?.role === "admin";
  const orgName = (id: string | null) => (id ? (orgs.data?.items.find((o) => o.id === id)?.name ?? "—") : "Support team");

  const columns: Column<User>[] = [
    {
      key: "name",
      header: "Name and e-mail",
      rowHeader: true,
      cell: (u) => (
        <span className="admin-cell-stack">
          <span>{u.name}</span>
          <span className="admin-cell-meta">{u.email}</span>
        </span>
      ),
    },
    { key: "role", header: "Role", cell: (u) => ROLE_LABEL[u.role] },
    { key: "org", header: "Organization", cell: (u) => orgName(u.org_id), hideOnMobile: true },
    { key: "status", header: "Status", cell: (u) => <UserStatusPill status={u.status} /> },
    { key: "mfa", header: "2FA", cell: (u) => <TwoFactorPill enabled={u.mfa_enabled} />, hideOnMobile: true },
    {
      key: "edit",
      header: <span className="visually-hidden">Actions</span>,
      align: "end",
      cell: (u) => {
        return (
          <span className="admin-row-actions">
            <Button size="sm" variant="ghost" onClick={() => setEditing(u)} aria-label={`Edit ${u.name}`}>
              Edit
            </Button>
            {u.status === "invited" ? (
              <Button
                size="sm"
                variant="ghost"
                icon="mail"
                busy={resend.isPending && resend.variables === u.id}
                onClick={() => resend.mutate(u.id)}
                aria-label={`Resend invitation to ${u.name}`}
              >
                Resend invitation
              </Button>
            ) : null}
          </span>
        );
      },
    },
  ];

  return (
    <Panel surface="content" padding="none">
      <div className="admin-toolbar">
        <div className="admin-toolbar__filters">
          <TextField label="Search users" type="search" value={q} onChange={(e) => setQ(e.target.value)} />
          <SelectField label="Organization" value={orgId} onChange={(e) => setOrgId(e.target.value)}>
            <option value="">Any organization</option>
            {orgs.data?.items.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </SelectField>
          <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as Role | "")}>
            <option value="">Any role</option>
            {ALL_ROLES.map((r) => (
              <option key={r} value={r}>
                {ROLE_LABEL[r]}
              </option>
            ))}
          </SelectField>
        </div>
        <Button variant="primary" icon="plus" onClick={() => setEditing("new")}>
          New user
        </Button>
      </div>
      {users.isPending ? (
        <SkeletonRows rows={5} />
      ) : users.isError ? (
        <div className="admin-pad">
          <ErrorState error={users.error} onRetry={() => void users.refetch()} />
        </div>
      ) : users.data.items.length === 0 ? (
        <EmptyState icon="users" title="No users match" />
      ) : (
        <Table caption="Users" captionHidden columns={columns} rows={users.data.items} rowKey={(u) => u.id} />
      )}
      {editing ? (
        <UserDialog
          user={editing === "new" ? null : editing}
          self={editing !== "new" && editing.id === me?.id}
          mayResetMfa={isAdmin}
          onClose={() => setEditing(null)}
          onAccountAction={(kind, user) => {
            // The confirmation replaces the edit dialog (one dialog at a time).
            setEditing(null);
            setConfirm({ kind, user });
          }}
        />
      ) : null}
      {confirm?.kind === "mfa" ? <ResetMfaDialog user={confirm.user} onClose={() => setConfirm(null)} /> : null}
      {confirm?.kind === "sessions" ? <EndSessionsDialog user={confirm.user} onClose={() => setConfirm(null)} /> : null}
    </Panel>
  );
}

/** Removing a user's second factors is for someone who lost theirs: check who asks first. */
function ResetMfaDialog({ user, onClose }: { user: User; onClose: () => void }) {
  const reset = useResetUserMfa();
  return (
    <Modal
      open
      onClose={onClose}
      busy={reset.isPending}
      title={`Reset two-factor sign-in of ${user.name}?`}
      description="Their authenticator app, security keys and recovery codes are removed, they are signed out everywhere and told by mail. Do this only after making sure, outside ATUM DESK, that the request really comes from them."
      footer={
        <>
          <Button variant="ghost" onClick={onClose} disabled={reset.isPending}>
            Cancel
          </Button>
          <Button variant="danger" busy={reset.isPending} onClick={() => reset.mutate(user.id, { onSuccess: onClose })}>
            Reset two-factor
          </Button>
        </>
      }
    />
  );
}

function EndSessionsDialog({ user, onClose }: { user: User; onClose: () => void }) {
  const end = useEndUserSessions();
  return (
    <Modal
      open
      onClose={onClose}
      busy={end.isPending}
      title={`Sign ${user.name} out everywhere?`}
      description="Every session of this user ends at once; they can sign in again with their password."
      footer={
        <>
          <Button variant="ghost" onClick={onClose} disabled={end.isPending}>
            Cancel
          </Button>
          <Button variant="danger" busy={end.isPending} onClick={() => end.mutate(user.id, { onSuccess: onClose })}>
            Sign out everywhere
          </Button>
        </>
      }
    />
  );
}

function UserDialog({
  user,
  self,
  mayResetMfa,
  onClose,
  onAccountAction,
}: {
  user: User | null;
  self: boolean;
  mayResetMfa: boolean;
  onClose: () => void;
  onAccountAction: (kind: "mfa" | "sessions", user: User) => void;
}) {
  const create = useCreateUser();
  const update = useUpdateUser();
  const orgs = useOrgs();
  const toast = useToast();
  const [name, setName] = useState(user?.name ?? "");
  const [email, setEmail] = useState(user?.email ?? "");
  const [role, setRole] = useState<Role>(user?.role ?? "customer_user");
  const [orgId, setOrgId] = useState(user?.org_id ?? "");
  const [active, setActive] = useState(user?.is_active ?? true);
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const pending = create.isPending || update.isPending;
  const isCustomer = CUSTOMER_ROLES.includes(role);
  // A user's kind (staff or customer of an organization) is fixed once created.
  const roleChoices = user ? (CUSTOMER_ROLES.includes(user.role) ? CUSTOMER_ROLES : STAFF_ROLES) : NEW_USER_ROLES;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!name.trim()) found.name = "Enter a name.";
    if (!user && !email.includes("@")) found.email = "Enter an e-mail address.";
    if (!user && isCustomer && !orgId) found.org_id = "Customers belong to an organization.";
    if (password && password.length < 12) found.password = "At least 12 characters, or leave it empty.";
    setErrors(found);
    if (Object.keys(found).length) return;
    const onError = (e: unknown) => e instanceof ApiError && setErrors(e.fieldErrors());
    if (user) {
      update.mutate(
        { id: user.id, name: name.trim(), role, is_active: active, ...(password ? { password } : {}) },
        { onSuccess: onClose, onError },
      );
    } else {
      create.mutate(
        { name: name.trim(), email: email.trim(), role, org_id: isCustomer ? orgId : null, password: password || null },
        {
          onSuccess: (created) => {
            toast.success(password ? `${created.name} can sign in now` : `Invitation sent to ${created.email}`);
            onClose();
          },
          onError,
        },
      );
    }
  };

  return (
    <Modal open onClose={onClose} busy={pending} title={user ? `Edit ${user.name}` : "New user"}>
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} required error={errors.name} autoComplete="off" />
        <TextField
          label="E-mail"
          type="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          required
          disabled={Boolean(user)}
          error={errors.email}
          autoComplete="off"
        />
        <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as Role)} disabled={self} error={errors.role}>
          {roleChoices.map((r) => (
            <option key={r} value={r}>
              {ROLE_LABEL[r]}
            </option>
          ))}
        </SelectField>
        {!user && isCustomer ? (
          <SelectField label="Organization" value={orgId} onChange={(e) => setOrgId(e.target.value)} required error={errors.org_id}>
            <option value="">Choose…</option>
            {orgs.data?.items.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </SelectField>
        ) : null}
        <TextField
          label={user ? "New password" : "Password (optional)"}
          type="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          hint={
            user
              ? "Leave empty to keep the current password."
              : "Leave empty to send an invitation: they choose their own password from a link in the mail."
          }
          error={errors.password}
          autoComplete="new-password"
        />
        {user && !self ? (
          <Checkbox label="Active (can sign in)" checked={active} onChange={(e) => setActive(e.target.checked)} hint="Deactivating signs the user out at once." />
        ) : null}
        {user && !self && user.status === "active" ? (
          <fieldset className="admin-account-actions">
            <legend className="admin-account-actions__legend">Sign-in</legend>
            <p className="admin-cell-meta">
              Two-factor sign-in: {user.mfa_enabled ? "on" : "off"}.
            </p>
            <div className="atum-inline">
              <Button size="sm" variant="secondary" icon="logout" onClick={() => onAccountAction("sessions", user)} disabled={pending}>
                Sign out everywhere…
              </Button>
              {mayResetMfa && user.mfa_enabled ? (
                <Button size="sm" variant="secondary" icon="shield" onClick={() => onAccountAction("mfa", user)} disabled={pending}>
                  Reset two-factor…
                </Button>
              ) : null}
            </div>
          </fieldset>
        ) : null}
        {user && mayResetMfa ? <UserIdentities user={user} /> : null}
        <div className="atum-form__actions">
          <Button variant="ghost" onClick={onClose} disabled={pending}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={pending}>
            {user ? "Save user" : password ? "Create user" : "Create and invite"}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
