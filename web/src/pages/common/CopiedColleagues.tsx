import { useState } from "react";
import type { UseMutationResult, UseQueryResult } from "@tanstack/react-query";
import { Button, Card, Checkbox, EmptyState, ErrorState, Modal, SkeletonRows } from "../../atum";
import "./common.css";

export interface PersonRef {
  id: string;
  name: string;
}

interface Props {
  cc: PersonRef[];
  /** Who may be copied (the organization's active customer users but the requester). */
  useCandidates: (enabled: boolean) => UseQueryResult<{ items: PersonRef[] }>;
  useSave: () => UseMutationResult<unknown, unknown, string[]>;
  /** "your organization" in the portal, the requester's organization name at the desk. */
  organization: string;
}

/**
 * Colleagues copied on a ticket: they see it in the portal and receive its e-mails. The same card
 * in the portal (the customer's own colleagues) and at the desk (the requester's organization).
 */
export function CopiedColleagues({ cc, useCandidates, useSave, organization }: Props) {
  const [open, setOpen] = useState(false);
  return (
    <Card
      title="Copied colleagues"
      titleId="cc-title"
      surface="content"
      actions={
        <Button size="sm" variant="ghost" icon="users" onClick={() => setOpen(true)} aria-label="Edit copied colleagues">
          Edit
        </Button>
      }
    >
      {cc.length ? (
        <ul className="common-cc" aria-labelledby="cc-title">
          {cc.map((p) => (
            <li key={p.id}>{p.name}</li>
          ))}
        </ul>
      ) : (
        <p className="faint">Nobody yet. Copied colleagues see this ticket and receive its e-mails.</p>
      )}
      {open ? <CcDialog cc={cc} useCandidates={useCandidates} useSave={useSave} organization={organization} onClose={() => setOpen(false)} /> : null}
    </Card>
  );
}

function CcDialog({ cc, useCandidates, useSave, organization, onClose }: Props & { onClose: () => void }) {
  const candidates = useCandidates(true);
  const save = useSave();
  const [chosen, setChosen] = useState<string[]>(cc.map((p) => p.id));
  const toggle = (id: string, on: boolean) => setChosen((now) => (on ? [...now, id] : now.filter((x) => x !== id)));
  return (
    <Modal
      open
      onClose={onClose}
      busy={save.isPending}
      title="Copy colleagues"
      description={`Colleagues of ${organization} you copy see this ticket in the portal and receive its e-mails.`}
      footer={
        <>
          <Button variant="ghost" onClick={onClose} disabled={save.isPending}>
            Cancel
          </Button>
          <Button variant="primary" busy={save.isPending} onClick={() => save.mutate(chosen, { onSuccess: onClose })}>
            Save
          </Button>
        </>
      }
    >
      {candidates.isPending ? (
        <SkeletonRows rows={3} />
      ) : candidates.isError ? (
        <ErrorState error={candidates.error} onRetry={() => void candidates.refetch()} />
      ) : candidates.data.items.length === 0 ? (
        <EmptyState icon="users" title="No colleagues to copy">
          The organization has no other active users.
        </EmptyState>
      ) : (
        <fieldset className="atum-stack common-cc-picker">
          <legend className="visually-hidden">Colleagues</legend>
          {candidates.data.items.map((p) => (
            <Checkbox key={p.id} label={p.name} checked={chosen.includes(p.id)} onChange={(e) => toggle(p.id, e.target.checked)} />
          ))}
        </fieldset>
      )}
    </Modal>
  );
}
