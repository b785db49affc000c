import { useState } from "react";
import { usePreferences, useSavePreferences } from "../api/notifications";
import { Button, Checkbox, Icon, Loading, Modal } from "../atum";

/** The bell in the user box: e-mail notifications on or off for the signed-in user. */
export function PreferencesButton() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="atum-icon-btn" onClick={() => setOpen(true)} aria-label="Notification settings" title="Notification settings">
        <Icon name="bell" />
      </button>
      {open ? <PreferencesDialog onClose={() => setOpen(false)} /> : null}
    </>
  );
}

function PreferencesDialog({ onClose }: { onClose: () => void }) {
  const prefs = usePreferences(true);
  const save = useSavePreferences();
  const [enabled, setEnabled] = useState<boolean | null>(null);
  const value = enabled ?? prefs.data?.notify_enabled ?? true;
  return (
    <Modal
      open
      onClose={onClose}
      busy={save.isPending}
      title="Notification settings"
      footer={
        <>
          <Button variant="ghost" onClick={onClose}>
            Cancel
          </Button>
          <Button variant="primary" busy={save.isPending} disabled={prefs.isPending} onClick={() => save.mutate(value, { onSuccess: onClose })}>
            Save settings
          </Button>
        </>
      }
    >
      {prefs.isPending ? (
        <Loading label="Loading your settings" lines={2} />
      ) : (
        <Checkbox
          label="E-mail me about my tickets"
          hint="Confirmations, status changes and replies. Mail that needs you (an assignment, an SLA breach, support waiting for your answer) is always sent."
          checked={value}
          onChange={(e) => setEnabled(e.target.checked)}
        />
      )}
    </Modal>
  );
}
