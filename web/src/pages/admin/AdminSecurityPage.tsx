/**
 * Administration › Security: which roles must sign in with a second factor, and the grace period
 * after the first sign-in that asks for one (during it, sign-in still works without; after it,
 * the session may only set a factor up).
 */
import { useState, type FormEvent } from "react";
import { useMfaPolicy, useSaveMfaPolicy, type MfaPolicyItem } from "../../api/account";
import { ApiError } from "../../api/client";
import type { Role } from "../../api/types";
import { Button, Checkbox, ErrorState, FormError, Panel, ROLE_LABEL, SkeletonRows, Table, TextField, useDocumentTitle, type Column } from "../../atum";

const MAX_GRACE_HOURS = 24 * 90;

type Draft = Record<string, { required: boolean; grace: string }>;

export function AdminSecurityPage() {
  useDocumentTitle("Security");
  const policy = useMfaPolicy();
  const save = useSaveMfaPolicy();
  const [draft, setDraft] = useState<Draft>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const items = policy.data?.items ?? [];

  const value = (item: MfaPolicyItem) => draft[item.role] ?? { required: item.required, grace: String(item.grace_hours) };
  const change = (role: Role, patch: Partial<{ required: boolean; grace: string }>) =>
    setDraft((d) => {
      const base = d[role] ?? (() => {
        const item = items.find((i) => i.role === role)!;
        return { required: item.required, grace: String(item.grace_hours) };
      })();
      return { ...d, [role]: { ...base, ...patch } };
    });

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    const next: MfaPolicyItem[] = items.map((item) => {
      const v = value(item);
      const hours = Number(v.grace);
      if (!/^\d+$/.test(v.grace.trim()) || hours > MAX_GRACE_HOURS) found[item.role] = `A whole number of hours, 0 to ${MAX_GRACE_HOURS}.`;
      return { role: item.role, required: v.required, grace_hours: hours };
    });
    setErrors(found);
    setProblem(null);
    if (Object.keys(found).length) return;
    save.mutate(next, {
      onSuccess: () => setDraft({}),
      onError: (error) => setProblem(error instanceof ApiError ? error.message : "The policy was not saved."),
    });
  };

  const columns: Column<MfaPolicyItem>[] = [
    { key: "role", header: "Role", rowHeader: true, cell: (item) => ROLE_LABEL[item.role] },
    {
      key: "required",
      header: "Two-factor sign-in",
      cell: (item) => (
        <Checkbox
          label="Required"
          aria-label={`Required for ${ROLE_LABEL[item.role]}`}
          checked={value(item).required}
          onChange={(e) => change(item.role, { required: e.target.checked })}
        />
      ),
    },
    {
      key: "grace",
      header: "Grace period (hours)",
      cell: (item) => (
        <TextField
          label={`Grace period in hours for ${ROLE_LABEL[item.role]}`}
          hideLabel
          type="number"
          inputMode="numeric"
          min={0}
          max={MAX_GRACE_HOURS}
          step={1}
          value={value(item).grace}
          onChange={(e) => change(item.role, { grace: e.target.value })}
          error={errors[item.role]}
          fieldClassName="admin-hours"
        />
      ),
    },
  ];

  return (
    <Panel surface="content" padding="none">
      <div className="admin-toolbar">
        <div className="admin-cell-stack">
          <h2 className="admin-section-title">Two-factor sign-in</h2>
          <p className="muted">
            People whose role requires it confirm every sign-in with an authenticator app or a security key. The grace period starts at
            their first sign-in after the rule applies; once it is over, they can only sign in to set a factor up.
          </p>
        </div>
      </div>
      {policy.isPending ? (
        <SkeletonRows rows={5} />
      ) : policy.isError ? (
        <div className="admin-pad">
          <ErrorState error={policy.error} onRetry={() => void policy.refetch()} />
        </div>
      ) : (
        <form onSubmit={onSubmit} noValidate aria-label="Two-factor policy">
          <Table caption="Two-factor sign-in per role" captionHidden columns={columns} rows={items} rowKey={(i) => i.role} />
          <div className="admin-pad atum-stack">
            <FormError>{problem}</FormError>
            <div className="atum-form__actions">
              <Button type="submit" variant="primary" busy={save.isPending} disabled={Object.keys(draft).length === 0}>
                Save policy
              </Button>
              {Object.keys(draft).length ? (
                <Button variant="ghost" onClick={() => { setDraft({}); setErrors({}); }} disabled={save.isPending}>
                  Discard changes
                </Button>
              ) : null}
            </div>
          </div>
        </form>
      )}
    </Panel>
  );
}
