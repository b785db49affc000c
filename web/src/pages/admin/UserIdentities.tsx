/**
 * In the user dialog (admins): the sign-in providers this user is linked to, "Remove link", and
 * "Approve link to provider" (made at their next sign-in there with the same e-mail address,
 * without proving the password kept here).
 */
import { useState } from "react";
import { useApproveIdentity, useIdentities, useRemoveIdentity, useSsoProviders, type Identity } from "../../api/sso";
import type { User } from "../../api/types";
import { Button, ErrorState, SelectField, formatDateTime, formatRelative } from "../../atum";
import { KIND_LABEL } from "./ssoForm";

function IdentityLine({ identity, onRemove, busy }: { identity: Identity; onRemove: () => void; busy: boolean }) {
  return (
    <li className="sso-identity">
      <span className="admin-cell-stack">
        <span>
          {identity.provider_name} <span className="admin-cell-meta">({KIND_LABEL[identity.provider_kind]})</span>
        </span>
        {identity.pending ? (
          <span className="admin-cell-meta">Approved: linked at their next sign-in there.</span>
        ) : (
          <span className="admin-cell-meta">
            Linked
            {identity.last_login_at ? (
              <>
                {" "}
                · last sign-in{" "}
                <time dateTime={identity.last_login_at} title={formatDateTime(identity.last_login_at)}>
                  {formatRelative(identity.last_login_at)}
                </time>
              </>
            ) : null}
            {identity.groups?.length ? ` · groups: ${identity.groups.join(", ")}` : ""}
          </span>
        )}
      </span>
      <Button size="sm" variant="ghost" icon="x" busy={busy} onClick={onRemove} aria-label={`Remove link to ${identity.provider_name}`}>
        Remove link
      </Button>
    </li>
  );
}

export function UserIdentities({ user }: { user: User }) {
  const identities = useIdentities(user.id);
  const providers = useSsoProviders();
  const approve = useApproveIdentity(user.id);
  const remove = useRemoveIdentity(user.id);
  const [chosen, setChosen] = useState("");
  const linked = new Set((identities.data ?? []).map((i) => i.provider_id));
  const open = (providers.data ?? []).filter((p) => !linked.has(p.id));

  // Nothing to show where no provider is set up and the user has no link.
  if (providers.isSuccess && providers.data.length === 0 && identities.isSuccess && identities.data.length === 0) return null;

  return (
    <fieldset className="admin-account-actions">
      <legend className="admin-account-actions__legend">Single sign-on</legend>
      {identities.isError ? (
        <ErrorState error={identities.error} onRetry={() => void identities.refetch()} />
      ) : identities.data?.length ? (
        <ul className="sso-identities" aria-label="Linked sign-in providers">
          {identities.data.map((i) => (
            <IdentityLine
              key={i.id}
              identity={i}
              busy={remove.isPending && remove.variables === i.id}
              onRemove={() => remove.mutate(i.id)}
            />
          ))}
        </ul>
      ) : identities.isSuccess ? (
        <p className="admin-cell-meta">Not linked to any sign-in provider.</p>
      ) : null}
      {open.length ? (
        <>
        <div className="sso-approve">
          <SelectField label="Provider" value={chosen} onChange={(e) => setChosen(e.target.value)}>
            <option value="">Choose…</option>
            {open.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </SelectField>
          <Button
            size="sm"
            variant="secondary"
            icon="check"
            disabled={!chosen}
            busy={approve.isPending}
            onClick={() => approve.mutate(chosen, { onSuccess: () => setChosen("") })}
          >
            Approve link to provider
          </Button>
        </div>
        <p className="admin-cell-meta">
          Approving links this account at their next sign-in there with the same e-mail address, without asking for the password kept here.
        </p>
        </>
      ) : null}
    </fieldset>
  );
}
