import { useState, type FormEvent } from "react";
import { useMe } from "../../api/auth";
import { ApiError } from "../../api/client";
import { useCreateUser, useEndUserSessions, useResendInvitation, useUpdateUser, useUsers } from "../../api/users";
import type { Role, User } from "../../api/types";
import {
  Button,
  EmptyState,
  Icon,
  ErrorState,
  Modal,
  PageHeader,
  Panel,
  ROLE_LABEL,
  SelectField,
  SkeletonRows,
  Table,
  TextField,
  useDocumentTitle,
  useToast,
  type Column,
} from "../../atum";
import "./portal.css";

export function PortalUsersPage() {
  useDocumentTitle("Users");
  const me = useMe().data;
  const users = useUsers({ org_id: me?.org_id ?? undefined }, Boolean(me));
  const update = useUpdateUser();
  const [creating, setCreating] = useState(false);
  const [confirm, setConfirm] = useState<User | null>(null);
  const [signOut, setSignOut] = useState<User | null>(null);
  const resend = useResendInvitation();
  const endSessions = useEndUserSessions();

  const columns: Column<User>[] = [
    { key: "name", header: "Name", rowHeader: true, cell: (u) => u.name },
    { key: "email", header: "E-mail", cell: (u) => u.email, hideOnMobile: true },
    { key: "role", header: "Role", cell: (u) => ROLE_LABEL[u.role] },
    {
      key: "status",
      header: "Status",
      cell: (u) => <AccountStatus status={u.status} />,
    },
    {
      key: "actions",
      header: <span className="visually-hidden">Actions</span>,
      align: "end",
      cell: (u) =>
        u.id === me?.id ? (
          <span className="faint">You</span>
        ) : u.is_active ? (
          <span className="portal-row-actions">
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
            ) : (
              <Button size="sm" variant="ghost" icon="logout" onClick={() => setSignOut(u)} aria-label={`Sign out everywhere: ${u.name}`}>
                Sign out everywhere
              </Button>
            )}
            <Button size="sm" variant="ghost" onClick={() => setConfirm(u)} aria-label={`Deactivate ${u.name}`}>
              Deactivate
            </Button>
          </span>
        ) : (
          <Button
            size="sm"
            variant="ghost"
            onClick={() => update.mutate({ id: u.id, is_active: true })}
            aria-label={`Reactivate ${u.name}`}
          >
            Reactivate
          </Button>
        ),
    },
  ];

  return (
    <>
      <PageHeader
        eyebrow={me?.org_name ?? undefined}
        title="Users"
        subtitle="People of your organization who can open and follow tickets."
        actions={
          <Button variant="primary" icon="plus" onClick={() => setCreating(true)}>
            Add user
          </Button>
        }
      />
      <Panel surface="content" padding="none">
        {users.isPending ? (
          <SkeletonRows rows={4} />
        ) : users.isError ? (
          <div className="portal-list__pad">
            <ErrorState error={users.error} onRetry={() => void users.refetch()} />
          </div>
        ) : users.data.items.length === 0 ? (
          <EmptyState icon="users" title="No users yet" />
        ) : (
          <Table caption="Users of your organization" captionHidden columns={columns} rows={users.data.items} rowKey={(u) => u.id} />
        )}
      </Panel>
      <CreateUserDialog open={creating} onClose={() => setCreating(false)} orgId={me?.org_id ?? null} />
      <Modal
        open={confirm !== null}
        onClose={() => setConfirm(null)}
        busy={update.isPending}
        title={`Deactivate ${confirm?.name ?? ""}?`}
        description="They are signed out at once and can no longer sign in. Their tickets stay."
        footer={
          <>
            <Button variant="ghost" onClick={() => setConfirm(null)}>
              Cancel
            </Button>
            <Button
              variant="danger"
              busy={update.isPending}
              onClick={() => confirm && update.mutate({ id: confirm.id, is_active: false }, { onSuccess: () => setConfirm(null) })}
            >
              Deactivate user
            </Button>
          </>
        }
      />
      <Modal
        open={signOut !== null}
        onClose={() => setSignOut(null)}
        busy={endSessions.isPending}
        title={`Sign ${signOut?.name ?? ""} out everywhere?`}
        description="Every session of this user ends at once; they can sign in again with their password."
        footer={
          <>
            <Button variant="ghost" onClick={() => setSignOut(null)}>
              Cancel
            </Button>
            <Button
              variant="danger"
              busy={endSessions.isPending}
              onClick={() => signOut && endSessions.mutate(signOut.id, { onSuccess: () => setSignOut(null) })}
            >
              Sign out everywhere
            </Button>
          </>
        }
      />
    </>
  );
}

const ACCOUNT_STATUS = {
  invited: { label: "Invited", tone: "atum-status--waiting", glyph: "mail" },
  active: { label: "Active", tone: "atum-status--resolved", glyph: "checkCircle" },
  deactivated: { label: "Deactivated", tone: "atum-status--closed", glyph: "xCircle" },
} as const;

function AccountStatus({ status }: { status: User["status"] }) {
  const look = ACCOUNT_STATUS[status];
  return (
    <span className={`atum-pill atum-pill--sm ${look.tone}`}>
      <Icon name={look.glyph} size="sm" />
      <span>{look.label}</span>
    </span>
  );
}

function CreateUserDialog({ open, onClose, orgId }: { open: boolean; onClose: () => void; orgId: string | null }) {
  const create = useCreateUser();
  const toast = useToast();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("customer_user");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const close = () => {
    setName("");
    setEmail("");
    setPassword("");
    setRole("customer_user");
    setErrors({});
    create.reset();
    onClose();
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!name.trim()) found.name = "Enter a name.";
    if (!email.includes("@")) found.email = "Enter an e-mail address.";
    if (password && password.length < 12) found.password = "At least 12 characters, or leave it empty.";
    setErrors(found);
    if (Object.keys(found).length) return;
    create.mutate(
      { name: name.trim(), email: email.trim(), role, password: password || null, org_id: orgId },
      {
        onSuccess: (created) => {
          toast.success(password ? `${created.name} can sign in now` : `Invitation sent to ${created.email}`);
          close();
        },
        onError: (error) => error instanceof ApiError && setErrors(error.fieldErrors()),
      },
    );
  };
  return (
    <Modal
      open={open}
      onClose={close}
      busy={create.isPending}
      title="Add a user"
      description="We e-mail them an invitation to choose their password, unless you set one here."
    >
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} required error={errors.name} autoComplete="off" />
        <TextField label="E-mail" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required error={errors.email} autoComplete="off" />
        <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as Role)} hint="Customer admins can also manage users.">
          <option value="customer_user">{ROLE_LABEL.customer_user}</option>
          <option value="customer_admin">{ROLE_LABEL.customer_admin}</option>
        </SelectField>
        <TextField
          label="Password (optional)"
          type="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          hint="Leave empty to send an invitation."
          error={errors.password}
          autoComplete="new-password"
        />
        <div className="atum-form__actions">
          <Button variant="ghost" onClick={close} disabled={create.isPending}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            {password ? "Create user" : "Create and invite"}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
