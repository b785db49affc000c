import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { ApiError } from "../../api/client";
import { useServices } from "../../api/services";
import { uploadTicketAttachment, useCreateTicket } from "../../api/tickets";
import { PRIORITIES, type Priority } from "../../api/types";
import {
  Button,
  ButtonLink,
  FileDrop,
  PageHeader,
  Panel,
  PRIORITY_LOOK,
  SelectField,
  TextArea,
  TextField,
  useDocumentTitle,
  useToast,
  useUploadQueue,
} from "../../atum";
import { KbDeflection } from "./KbDeflection";
import "./portal.css";

export function NewTicketPage() {
  useDocumentTitle("New ticket");
  const navigate = useNavigate();
  const toast = useToast();
  const services = useServices();
  const create = useCreateTicket();
  const queue = useUploadQueue();
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [priority, setPriority] = useState<Priority>("P3");
  const [serviceId, setServiceId] = useState("");
  const [category, setCategory] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [uploading, setUploading] = useState(false);

  const activeServices = services.data?.items.filter((s) => s.is_active) ?? [];

  const validate = () => {
    const found: Record<string, string> = {};
    if (title.trim().length < 3) found.title = "Give the ticket a title of at least 3 characters.";
    if (!description.trim()) found.description = "Describe what happened.";
    setErrors(found);
    return Object.keys(found).length === 0;
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!validate()) return;
    create.mutate(
      {
        title: title.trim(),
        description: description.trim(),
        priority,
        service_id: serviceId || null,
        category: category.trim() || null,
      },
      {
        onSuccess: async (ticket) => {
          // The ticket exists now; send each picked file to it, with progress.
          if (queue.items.length > 0) {
            setUploading(true);
            const failed = await queue.uploadAll(
              (file, onProgress) => uploadTicketAttachment(ticket.id, file, { onProgress }),
              queue.items,
            );
            setUploading(false);
            if (failed > 0) {
              toast.error(`Ticket created, but ${failed} attachment${failed === 1 ? "" : "s"} could not be uploaded.`);
            }
          }
          toast.success(`Ticket #${ticket.number} created`);
          void navigate(`/portal/tickets/${ticket.id}`);
        },
        onError: (error) => {
          if (error instanceof ApiError) setErrors(error.fieldErrors());
        },
      },
    );
  };

  const busy = create.isPending || uploading;
  return (
    <div className="portal-new">
      <PageHeader title="New ticket" subtitle="Tell us what is wrong. A support manager reviews every new ticket." />
      <Panel surface="content" padding="lg">
        <form className="atum-form" onSubmit={onSubmit} noValidate>
          <TextField
            label="Title"
            required
            value={title}
            onChange={(e) => setTitle(e.target.value)}
            maxLength={300}
            placeholder="e.g. VPN drops every few minutes"
            error={errors.title}
          />
          <TextArea
            label="Description"
            required
            rows={7}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            maxLength={50000}
            hint="What happened, since when, who is affected, what you already tried."
            error={errors.description}
          />
          <KbDeflection title={title} description={description} />
          <div className="atum-form__row">
            <SelectField
              label="Priority"
              value={priority}
              onChange={(e) => setPriority(e.target.value as Priority)}
              hint={PRIORITY_LOOK[priority].hint}
              error={errors.priority}
            >
              {PRIORITIES.map((p) => (
                <option key={p} value={p}>
                  {p} — {PRIORITY_LOOK[p].label}
                </option>
              ))}
            </SelectField>
            <SelectField
              label="Service"
              value={serviceId}
              onChange={(e) => setServiceId(e.target.value)}
              disabled={services.isPending}
              error={errors.service_id}
            >
              <option value="">Not sure / other</option>
              {activeServices.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </SelectField>
            <TextField
              label="Category"
              value={category}
              onChange={(e) => setCategory(e.target.value)}
              maxLength={100}
              placeholder="Optional, e.g. Access"
              error={errors.category}
            />
          </div>
          <FileDrop
            label="Attachments"
            hint="Optional. Screenshots, logs, documents — uploaded after the ticket is created."
            items={queue.items}
            onAdd={queue.add}
            onRemove={queue.remove}
            disabled={busy}
          />
          <div className="atum-form__actions">
            <ButtonLink to="/portal" variant="ghost">
              Cancel
            </ButtonLink>
            <Button type="submit" variant="primary" icon="plus" busy={busy}>
              Create ticket
            </Button>
          </div>
        </form>
      </Panel>
    </div>
  );
}
