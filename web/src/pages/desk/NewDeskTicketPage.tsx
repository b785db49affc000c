import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { useMe } from "../../api/auth";
import { ApiError } from "../../api/client";
import { useCreateDeskTicket, type DeskTicketCreate } from "../../api/internal";
import { useOrgs } from "../../api/orgs";
import { useServices } from "../../api/services";
import { CUSTOMER_ROLES, PRIORITIES, type Priority, type User } from "../../api/types";
import { useUsers } from "../../api/users";
import {
  Button,
  ButtonLink,
  Checkbox,
  FormError,
  PageHeader,
  Panel,
  PRIORITY_LOOK,
  SelectField,
  TextArea,
  TextField,
  useDebounced,
  useDocumentTitle,
  useToast,
} from "../../atum";
import "./desk.css";

type Who = "existing" | "new";

/** The customer search: active customer users whose name or address matches. */
function CustomerPicker({
  chosen,
  onChoose,
  error,
}: {
  chosen: User | null;
  onChoose: (user: User | null) => void;
  error?: string;
}) {
  const [q, setQ] = useState("");
  const query = useDebounced(q.trim(), 300);
  const users = useUsers({ q: query }, query.length >= 2);
  const matches = (users.data?.items ?? []).filter((u) => u.is_active && CUSTOMER_ROLES.includes(u.role)).slice(0, 8);

  if (chosen) {
    return (
      <div className="desk-new__chosen">
        <p>
          <strong>{chosen.name}</strong> · {chosen.email}
        </p>
        <Button type="button" variant="ghost" size="sm" onClick={() => onChoose(null)}>
          Change
        </Button>
      </div>
    );
  }
  return (
    <div className="atum-stack">
      <TextField
        label="Customer"
        required
        value={q}
        onChange={(e) => setQ(e.target.value)}
        placeholder="Name or e-mail address"
        hint="Type at least two characters."
        error={error}
        autoComplete="off"
      />
      {query.length >= 2 && users.isSuccess ? (
        matches.length > 0 ? (
          <ul className="desk-new__matches" aria-label="Matching customers">
            {matches.map((u) => (
              <li key={u.id}>
                <Button type="button" variant="secondary" size="sm" onClick={() => onChoose(u)}>
                  {u.name} · {u.email}
                </Button>
              </li>
            ))}
          </ul>
        ) : (
          <p className="atum-field__hint">No customer matches. Record a new contact instead.</p>
        )
      ) : null}
    </div>
  );
}

/** /desk/tickets/new: a ticket recorded for a customer who phoned or wrote. */
export function NewDeskTicketPage() {
  useDocumentTitle("New ticket");
  const navigate = useNavigate();
  const toast = useToast();
  const me = useMe().data;
  const mayAccept = me?.role === "manager" || me?.role === "admin";
  const create = useCreateDeskTicket();
  const [who, setWho] = useState<Who>("existing");
  const [customer, setCustomer] = useState<User | null>(null);
  const [contactOrg, setContactOrg] = useState("");
  const [contactName, setContactName] = useState("");
  const [contactEmail, setContactEmail] = useState("");
  const orgs = useOrgs(undefined, who === "new");
  const [channel, setChannel] = useState<"phone" | "email">("phone");
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [priority, setPriority] = useState<Priority>("P3");
  const [serviceId, setServiceId] = useState("");
  const [category, setCategory] = useState("");
  const [accept, setAccept] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  // The services of the customer's organization (and the global ones).
  const orgId = who === "existing" ? customer?.org_id ?? undefined : contactOrg || undefined;
  const services = useServices(undefined);
  const offered = (services.data?.items ?? []).filter((s) => s.is_active && (s.org_id === null || s.org_id === orgId));

  const validate = () => {
    const found: Record<string, string> = {};
    if (who === "existing" && !customer) found.customer_id = "Pick the customer.";
    if (who === "new") {
      if (!contactOrg) found.org_id = "Pick the organization.";
      if (!contactName.trim()) found.name = "Give the contact's name.";
      if (!contactEmail.trim()) found.email = "Give the contact's e-mail address.";
    }
    if (title.trim().length < 3) found.title = "Give the ticket a title of at least 3 characters.";
    if (!description.trim()) found.description = "Write down what the customer said.";
    setErrors(found);
    return Object.keys(found).length === 0;
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setFormError(null);
    if (!validate()) return;
    const body: DeskTicketCreate = {
      title: title.trim(),
      description: description.trim(),
      priority,
      category: category.trim() || null,
      service_id: serviceId || null,
      channel,
      accept: mayAccept && accept,
      ...(who === "existing"
        ? { customer_id: customer!.id }
        : { new_contact: { org_id: contactOrg, name: contactName.trim(), email: contactEmail.trim() } }),
    };
    create.mutate(body, {
      onSuccess: (ticket) => {
        toast.success(`Ticket #${ticket.number} created`);
        void navigate(`/desk/tickets/${ticket.id}`);
      },
      onError: (error) => {
        if (error instanceof ApiError) {
          const fields = error.fieldErrors();
          setErrors(fields);
          if (Object.keys(fields).length === 0) setFormError(error.message);
        }
      },
    });
  };

  return (
    <div className="desk-new">
      <PageHeader
        title="New ticket"
        subtitle="Record a request a customer made by phone or e-mail. The customer owns the ticket and gets the usual mails."
      />
      <Panel surface="content" padding="lg">
        <form className="atum-form" onSubmit={onSubmit} noValidate>
          <SelectField label="Who asked" value={who} onChange={(e) => setWho(e.target.value as Who)}>
            <option value="existing">A customer who is already a user</option>
            <option value="new">A new contact of an organization</option>
          </SelectField>
          {who === "existing" ? (
            <CustomerPicker chosen={customer} onChoose={setCustomer} error={errors.customer_id} />
          ) : (
            <div className="atum-form__row">
              <SelectField
                label="Organization"
                required
                value={contactOrg}
                onChange={(e) => setContactOrg(e.target.value)}
                disabled={orgs.isPending}
                error={errors.org_id}
              >
                <option value="">Choose…</option>
                {(orgs.data?.items ?? []).map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.name}
                  </option>
                ))}
              </SelectField>
              <TextField label="Name" required value={contactName} onChange={(e) => setContactName(e.target.value)} maxLength={200} error={errors.name} />
              <TextField
                label="E-mail"
                type="email"
                required
                value={contactEmail}
                onChange={(e) => setContactEmail(e.target.value)}
                maxLength={254}
                error={errors.email}
              />
            </div>
          )}
          <SelectField label="Channel" value={channel} onChange={(e) => setChannel(e.target.value as "phone" | "email")} error={errors.channel}>
            <option value="phone">Phone</option>
            <option value="email">E-mail</option>
          </SelectField>
          <TextField label="Title" required value={title} onChange={(e) => setTitle(e.target.value)} maxLength={300} error={errors.title} />
          <TextArea
            label="Description"
            required
            rows={7}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            maxLength={50000}
            hint="The customer sees this as their ticket's description."
            error={errors.description}
          />
          <div className="atum-form__row">
            <SelectField label="Priority" value={priority} onChange={(e) => setPriority(e.target.value as Priority)} error={errors.priority}>
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
              <option value="">None</option>
              {offered.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </SelectField>
            <TextField label="Category" value={category} onChange={(e) => setCategory(e.target.value)} maxLength={100} error={errors.category} />
          </div>
          {mayAccept ? (
            <Checkbox
              label="Accept now"
              checked={accept}
              onChange={(e) => setAccept(e.target.checked)}
              hint="Skips the queue: the ticket is accepted at once and its SLA starts."
            />
          ) : null}
          <FormError>{formError}</FormError>
          <div className="atum-form__actions">
            <ButtonLink to="/desk/tickets" variant="ghost">
              Cancel
            </ButtonLink>
            <Button type="submit" variant="primary" icon="plus" busy={create.isPending}>
              Create ticket
            </Button>
          </div>
        </form>
      </Panel>
    </div>
  );
}
