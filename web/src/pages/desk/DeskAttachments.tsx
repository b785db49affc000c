import { useState } from "react";
import { deskAttachmentUrl, uploadDeskAttachment, useRefreshDeskTicket } from "../../api/internal";
import type { StaffTicketDetail } from "../../api/types";
import { AttachmentList, Card, Checkbox, FileDrop, useToast, useUploadQueue } from "../../atum";

export function DeskAttachments({ ticket }: { ticket: StaffTicketDetail }) {
  const queue = useUploadQueue();
  const refresh = useRefreshDeskTicket();
  const toast = useToast();
  const [internal, setInternal] = useState(false);
  const uploading = queue.items.some((i) => i.status === "uploading");

  const onAdd = async (files: File[]) => {
    const added = queue.add(files);
    const failed = await queue.uploadAll(
      (file, onProgress) => uploadDeskAttachment(ticket.id, file, internal, { onProgress }),
      added,
    );
    await refresh(ticket.id);
    if (failed === 0) {
      toast.success(internal ? "Internal attachment uploaded" : "Attachment uploaded");
      queue.clearDone();
    }
  };

  return (
    <Card title={`Attachments (${(ticket.attachments ?? []).length})`} titleId="attachments-title" surface="content">
      <div className="atum-stack">
        <AttachmentList
          items={(ticket.attachments ?? []).map((a) => ({
            id: a.id,
            file_name: a.file_name,
            size_bytes: a.size_bytes,
            created_at: a.created_at,
            href: deskAttachmentUrl(ticket.id, a.id),
            internal: a.is_internal,
            by: a.uploaded_by?.name,
          }))}
        />
        {ticket.actions.attach ? (
          <>
            <Checkbox
              label="Internal (staff only)"
              checked={internal}
              onChange={(e) => setInternal(e.target.checked)}
              disabled={uploading}
            />
            <FileDrop
              label={internal ? "Add internal attachments" : "Add attachments"}
              items={queue.items}
              onAdd={(files) => void onAdd(files)}
              onRemove={queue.remove}
              disabled={uploading}
              compact
            />
          </>
        ) : null}
      </div>
    </Card>
  );
}
