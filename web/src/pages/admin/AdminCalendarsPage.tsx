import { useEffect, useMemo, useRef, useState, type ChangeEvent, type FormEvent } from "react";
import { ApiError } from "../../api/client";
import {
  useCalendars,
  useCreateCalendar,
  useDeleteCalendar,
  useImportHolidays,
  useUpdateCalendar,
  type HolidayImportBody,
} from "../../api/calendars";
import {
  Button,
  Checkbox,
  EmptyState,
  ErrorState,
  FormError,
  Modal,
  Panel,
  SelectField,
  SkeletonRows,
  Table,
  TextArea,
  TextField,
  useDocumentTitle,
  type Column,
} from "../../atum";
import {
  DAY_NAMES,
  DAY_SHORT,
  MINUTES_PER_DAY,
  PRESETS,
  addDays,
  copyWeek,
  describeDay,
  draftErrors,
  emptyDraft,
  fromException,
  mondayOf,
  parseYears,
  summarizeWeek,
  timeZones,
  toBody,
  toDraft,
  todayIso,
  weekPreview,
  type Calendar,
  type CalendarDraft,
  type ExceptionRow,
  type WindowRow,
} from "./calendarModel";

export function AdminCalendarsPage() {
  useDocumentTitle("Business hours");
  const calendars = useCalendars();
  const [editing, setEditing] = useState<Calendar | "new" | null>(null);
  const [deleting, setDeleting] = useState<Calendar | null>(null);

  const columns: Column<Calendar>[] = [
    { key: "name", header: "Name", rowHeader: true, cell: (c) => c.name },
    { key: "zone", header: "Time zone", cell: (c) => c.timezone },
    { key: "hours", header: "Weekly hours", hideOnMobile: true, cell: (c) => summarizeWeek(c) },
    { key: "exceptions", header: "Dated exceptions", hideOnMobile: true, cell: (c) => <span className="tnum">{c.exceptions.length}</span> },
    {
      key: "actions",
      header: <span className="visually-hidden">Actions</span>,
      align: "end",
      cell: (c) => (
        <span className="atum-inline atum-inline--end">
          <Button size="sm" variant="ghost" onClick={() => setEditing(c)} aria-label={`Edit ${c.name}`}>
            Edit
          </Button>
          <Button size="sm" variant="ghost" onClick={() => setDeleting(c)} aria-label={`Delete ${c.name}`}>
            Delete
          </Button>
        </span>
      ),
    },
  ];

  if (editing) {
    return (
      <CalendarEditor
        key={editing === "new" ? "new" : editing.id}
        calendar={editing === "new" ? null : editing}
        onDone={setEditing}
        onClose={() => setEditing(null)}
      />
    );
  }

  return (
    <Panel surface="content" padding="none">
      <div className="admin-toolbar">
        <p className="muted">
          When SLA clocks run: a time zone, weekly opening hours and dated exceptions such as holidays. Without a calendar a policy
          runs around the clock; an organization's calendar overrides its policies'.
        </p>
        <Button variant="primary" icon="plus" onClick={() => setEditing("new")}>
          New calendar
        </Button>
      </div>
      {calendars.isPending ? (
        <SkeletonRows rows={3} />
      ) : calendars.isError ? (
        <div className="admin-pad">
          <ErrorState error={calendars.error} onRetry={() => void calendars.refetch()} />
        </div>
      ) : calendars.data.items.length === 0 ? (
        <EmptyState icon="clock" title="No calendars">
          Every SLA clock runs around the clock.
        </EmptyState>
      ) : (
        <Table caption="Business-hours calendars" captionHidden columns={columns} rows={calendars.data.items} rowKey={(c) => c.id} />
      )}
      {deleting ? <DeleteDialog calendar={deleting} onClose={() => setDeleting(null)} /> : null}
    </Panel>
  );
}

function DeleteDialog({ calendar, onClose }: { calendar: Calendar; onClose: () => void }) {
  const remove = useDeleteCalendar();
  const refusal = remove.error instanceof ApiError ? remove.error.message : remove.error ? "The calendar could not be deleted." : null;
  return (
    <Modal
      open
      onClose={onClose}
      busy={remove.isPending}
      title={`Delete ${calendar.name}?`}
      description="A calendar still used by an SLA policy, an organization or a running clock cannot be deleted."
      footer={
        <>
          <Button variant="ghost" onClick={onClose}>
            Cancel
          </Button>
          <Button variant="danger" busy={remove.isPending} onClick={() => remove.mutate(calendar.id, { onSuccess: onClose })}>
            Delete calendar
          </Button>
        </>
      }
    >
      <FormError>{refusal}</FormError>
    </Modal>
  );
}

/** Server 422s on a field ("timezone", "windows", "exceptions", "name") → a message each. */
function serverErrors(error: ApiError): Record<string, string> {
  const fields = error.fieldErrors();
  return Object.keys(fields).length ? fields : { form: error.message };
}

function CalendarEditor({
  calendar,
  onDone,
  onClose,
}: {
  calendar: Calendar | null;
  onDone: (saved: Calendar) => void;
  onClose: () => void;
}) {
  const create = useCreateCalendar();
  const update = useUpdateCalendar();
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const [draft, setDraft] = useState<CalendarDraft>(() => (calendar ? toDraft(calendar) : emptyDraft(browserZone)));
  const [checked, setChecked] = useState(false);
  const [server, setServer] = useState<Record<string, string>>({});
  const zones = useMemo(() => timeZones(draft.timezone), [draft.timezone]);
  const heading = useRef<HTMLHeadingElement>(null);
  // The list's button that opened the editor is gone: keyboard focus starts at the editor's title.
  useEffect(() => heading.current?.focus(), []);
  const errors = draftErrors(draft, zones);
  const shown = checked ? errors : null;
  const pending = create.isPending || update.isPending;

  const setWeek = (weekday: number, rows: WindowRow[]) =>
    setDraft((d) => ({ ...d, week: d.week.map((day, i) => (i === weekday ? rows : day)) }));
  const setException = (index: number, row: ExceptionRow | null) =>
    setDraft((d) => ({
      ...d,
      exceptions: row === null ? d.exceptions.filter((_, i) => i !== index) : d.exceptions.map((e, i) => (i === index ? row : e)),
    }));

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    setServer({});
    if (errors.count > 0) return;
    const onError = (e: unknown) => e instanceof ApiError && setServer(serverErrors(e));
    const body = toBody(draft);
    // Saved: keep editing the stored calendar (a new one can now import holidays).
    if (calendar) update.mutate({ id: calendar.id, ...body }, { onSuccess: onDone, onError });
    else create.mutate(body, { onSuccess: onDone, onError });
  };

  return (
    <div className="calendar-editor">
      <Panel surface="content" padding="lg" aria-labelledby="calendar-editor-title">
        <h2 id="calendar-editor-title" className="admin-section-title" ref={heading} tabIndex={-1}>
          {calendar ? `Edit ${calendar.name}` : "New calendar"}
        </h2>
        <form className="atum-form" onSubmit={onSubmit} noValidate>
          <div className="atum-form__row">
            <TextField
              label="Name"
              value={draft.name}
              maxLength={120}
              required
              onChange={(e) => setDraft({ ...draft, name: e.target.value })}
              error={shown?.name ?? server.name}
            />
            <SelectField
              label="Time zone"
              value={draft.timezone}
              onChange={(e) => setDraft({ ...draft, timezone: e.target.value })}
              error={shown?.timezone ?? server.timezone}
              hint="Opening hours are local times of this zone; daylight saving time is followed."
            >
              {zones.map((z) => (
                <option key={z} value={z}>
                  {z}
                </option>
              ))}
            </SelectField>
          </div>

          <fieldset className="calendar-fieldset">
            <legend className="calendar-legend">Weekly hours</legend>
            <div className="atum-inline" role="group" aria-label="Presets">
              {Object.entries(PRESETS).map(([key, preset]) => (
                <Button key={key} size="sm" onClick={() => setDraft({ ...draft, week: copyWeek(preset.week) })}>
                  {preset.label}
                </Button>
              ))}
              <Button size="sm" variant="ghost" onClick={() => setDraft({ ...draft, week: DAY_NAMES.map(() => []) })}>
                Clear all
              </Button>
            </div>
            {server.windows ? <FormError>{server.windows}</FormError> : null}
            <div className="calendar-week-editor">
              {DAY_NAMES.map((day, weekday) => (
                <WindowsEditor
                  key={day}
                  title={day}
                  rows={draft.week[weekday] ?? []}
                  errors={shown?.week[weekday] ?? []}
                  onChange={(rows) => setWeek(weekday, rows)}
                  empty="Closed"
                />
              ))}
            </div>
          </fieldset>

          <fieldset className="calendar-fieldset">
            <legend className="calendar-legend">Dated exceptions</legend>
            <p className="muted">Holidays (closed) or special hours that replace the weekday's hours on one date.</p>
            {server.exceptions ? <FormError>{server.exceptions}</FormError> : null}
            {draft.exceptions.length === 0 ? <p className="faint">No exceptions.</p> : null}
            <ul className="calendar-exceptions">
              {draft.exceptions.map((row, index) => (
                <ExceptionEditor
                  key={index}
                  index={index}
                  row={row}
                  errors={shown?.exceptions[index]}
                  onChange={(next) => setException(index, next)}
                />
              ))}
            </ul>
            <Button
              size="sm"
              icon="plus"
              onClick={() =>
                setDraft({ ...draft, exceptions: [...draft.exceptions, { date: todayIso(), closed: true, windows: [], name: "" }] })
              }
            >
              Add exception
            </Button>
          </fieldset>

          <FormError>{server.form ?? server.name ?? null}</FormError>
          <div className="atum-form__actions">
            <Button variant="ghost" onClick={onClose} disabled={pending}>
              Back to calendars
            </Button>
            <Button type="submit" variant="primary" busy={pending}>
              {calendar ? "Save calendar" : "Create calendar"}
            </Button>
          </div>
        </form>
      </Panel>

      {calendar ? (
        <HolidayImport
          calendar={calendar}
          onImported={(added) =>
            setDraft((d) => {
              const present = new Set(d.exceptions.map((e) => e.date));
              return { ...d, exceptions: [...d.exceptions, ...added.filter((e) => !present.has(e.date)).map(fromException)] };
            })
          }
        />
      ) : (
        <Panel surface="content" padding="lg">
          <h2 className="admin-section-title">Import holidays</h2>
          <p className="muted">Create the calendar first; then import a country's public holidays or an iCalendar file.</p>
        </Panel>
      )}

      <WeekPreview draft={draft} />
    </div>
  );
}

function WindowsEditor({
  title,
  rows,
  errors,
  onChange,
  empty,
}: {
  title: string;
  rows: WindowRow[];
  errors: (string | null)[];
  onChange: (rows: WindowRow[]) => void;
  empty: string;
}) {
  return (
    <div className="calendar-day" role="group" aria-label={title}>
      <span className="calendar-day__name">{title}</span>
      <div className="calendar-day__rows">
        {rows.length === 0 ? <span className="faint">{empty}</span> : null}
        {rows.map((row, i) => (
          <div key={i} className="calendar-window">
            <TextField
              label={`${title} window ${i + 1} start`}
              hideLabel
              value={row.start}
              placeholder="09:00"
              inputMode="numeric"
              maxLength={5}
              aria-invalid={errors[i] ? true : undefined}
              onChange={(e) => onChange(rows.map((r, j) => (j === i ? { ...r, start: e.target.value } : r)))}
            />
            <span aria-hidden="true">–</span>
            <TextField
              label={`${title} window ${i + 1} end`}
              hideLabel
              value={row.end}
              placeholder="17:00"
              inputMode="numeric"
              maxLength={5}
              aria-invalid={errors[i] ? true : undefined}
              onChange={(e) => onChange(rows.map((r, j) => (j === i ? { ...r, end: e.target.value } : r)))}
            />
            <Button size="sm" variant="ghost" onClick={() => onChange(rows.filter((_, j) => j !== i))} aria-label={`Remove ${title} window ${i + 1}`}>
              Remove
            </Button>
            {errors[i] ? (
              <p className="atum-field__error calendar-window__error" role="alert">
                {errors[i]}
              </p>
            ) : null}
          </div>
        ))}
      </div>
      <Button
        size="sm"
        variant="ghost"
        icon="plus"
        aria-label={`Add a ${title} window`}
        onClick={() => {
          const last = rows[rows.length - 1];
          onChange([...rows, last ? { start: last.end === "24:00" ? "" : last.end, end: "" } : { start: "09:00", end: "17:00" }]);
        }}
      >
        Add
      </Button>
    </div>
  );
}

function ExceptionEditor({
  index,
  row,
  errors,
  onChange,
}: {
  index: number;
  row: ExceptionRow;
  errors?: { date?: string; windows: (string | null)[] };
  onChange: (row: ExceptionRow | null) => void;
}) {
  const n = index + 1;
  return (
    <li className="calendar-exception">
      <TextField label={`Exception ${n} date`} type="date" value={row.date} error={errors?.date} onChange={(e) => onChange({ ...row, date: e.target.value })} />
      <TextField label={`Exception ${n} label`} value={row.name} maxLength={120} placeholder="Christmas Day" onChange={(e) => onChange({ ...row, name: e.target.value })} />
      <Checkbox
        label={
          <>
            Closed all day<span className="visually-hidden"> (exception {n})</span>
          </>
        }
        checked={row.closed}
        onChange={(e) =>
          onChange({ ...row, closed: e.target.checked, windows: e.target.checked ? [] : row.windows.length ? row.windows : [{ start: "09:00", end: "13:00" }] })
        }
      />
      {row.closed ? null : (
        <WindowsEditor
          title={`Exception ${n}`}
          rows={row.windows}
          errors={errors?.windows ?? []}
          onChange={(windows) => onChange({ ...row, windows })}
          empty="No hours"
        />
      )}
      <Button size="sm" variant="ghost" onClick={() => onChange(null)} aria-label={`Remove exception ${n}`}>
        Remove
      </Button>
    </li>
  );
}

function HolidayImport({ calendar, onImported }: { calendar: Calendar; onImported: (added: Calendar["exceptions"]) => void }) {
  const importing = useImportHolidays();
  const thisYear = new Date().getFullYear();
  const [source, setSource] = useState<"country" | "ics">("country");
  const [country, setCountry] = useState("");
  const [subdivision, setSubdivision] = useState("");
  const [years, setYears] = useState(`${thisYear}, ${thisYear + 1}`);
  const [ics, setIcs] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [result, setResult] = useState<string | null>(null);

  const onFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (file) setIcs(await file.text());
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setResult(null);
    const found: Record<string, string> = {};
    let body: HolidayImportBody;
    if (source === "country") {
      const list = parseYears(years);
      if (!/^[A-Za-z]{2,3}$/.test(country.trim())) found.country = "A country code such as DE, AT or US.";
      if (!list) found.years = "Years from 2000 to 2100, separated by commas.";
      else if (list.length > 5) found.years = "At most 5 years at a time.";
      body = { country: country.trim().toUpperCase(), subdivision: subdivision.trim() || null, years: list ?? [] };
    } else {
      if (!ics.trim()) found.ics = "Paste the iCalendar text or choose an .ics file.";
      body = { ics };
    }
    setErrors(found);
    if (Object.keys(found).length) return;
    importing.mutate(
      { id: calendar.id, ...body },
      {
        onSuccess: (answer) => {
          onImported(answer.added);
          const ignored = answer.ignored ? `; ${answer.ignored} timed event${answer.ignored === 1 ? "" : "s"} ignored` : "";
          setResult(
            `Added ${answer.added.length} closed day${answer.added.length === 1 ? "" : "s"}; ${answer.skipped.length} already listed${ignored}.`,
          );
        },
        onError: (e) => {
          if (!(e instanceof ApiError)) return;
          const fields = e.fieldErrors();
          setErrors(Object.keys(fields).length ? { ...fields, form: fields.body ?? "" } : { form: e.message });
        },
      },
    );
  };
  return (
    <Panel surface="content" padding="lg" aria-labelledby="holiday-import-title">
      <h2 id="holiday-import-title" className="admin-section-title">
        Import holidays
      </h2>
      <p className="muted">Imported days are saved at once as closed days; dates already listed are kept as they are.</p>
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <SelectField label="Source" value={source} onChange={(e) => setSource(e.target.value as "country" | "ics")}>
          <option value="country">A country's public holidays</option>
          <option value="ics">An iCalendar file (.ics)</option>
        </SelectField>
        {source === "country" ? (
          <div className="atum-form__row">
            <TextField label="Country" value={country} maxLength={3} placeholder="DE" autoCapitalize="characters" error={errors.country} onChange={(e) => setCountry(e.target.value)} />
            <TextField
              label="Subdivision"
              value={subdivision}
              maxLength={20}
              placeholder="BY"
              hint="Optional: a state or region code."
              error={errors.subdivision}
              onChange={(e) => setSubdivision(e.target.value)}
            />
            <TextField label="Years" value={years} error={errors.years} hint="Up to 5, e.g. 2026, 2027." onChange={(e) => setYears(e.target.value)} />
          </div>
        ) : (
          <>
            <TextArea
              label="iCalendar text"
              rows={5}
              value={ics}
              spellCheck={false}
              error={errors.ics}
              hint="All-day events become closed days (repeating ones for last year to three years ahead); timed events are ignored."
              onChange={(e) => setIcs(e.target.value)}
            />
            <TextField label="Or choose an .ics file" type="file" accept=".ics,text/calendar" onChange={(e) => void onFile(e)} />
          </>
        )}
        <FormError>{errors.form || null}</FormError>
        {result ? (
          <p className="calendar-import-result" role="status">
            {result}
          </p>
        ) : null}
        <div className="atum-form__actions">
          <Button type="submit" variant="primary" busy={importing.isPending}>
            Import holidays
          </Button>
        </div>
      </form>
    </Panel>
  );
}

function WeekPreview({ draft }: { draft: CalendarDraft }) {
  const [monday, setMonday] = useState(() => mondayOf(todayIso()));
  const days = weekPreview(draft, monday);
  const percent = (minutes: number) => `${(minutes / MINUTES_PER_DAY) * 100}%`;
  return (
    <Panel surface="content" padding="lg" aria-labelledby="week-preview-title">
      <h2 id="week-preview-title" className="admin-section-title">
        Week preview
      </h2>
      <div className="atum-inline calendar-preview__controls">
        <Button size="sm" variant="ghost" icon="arrowLeft" onClick={() => setMonday(addDays(monday, -7))}>
          Previous week
        </Button>
        <TextField label="Week of" type="date" value={monday} onChange={(e) => e.target.value && setMonday(mondayOf(e.target.value))} />
        <Button size="sm" variant="ghost" iconAfter="arrowRight" onClick={() => setMonday(addDays(monday, 7))}>
          Next week
        </Button>
        <Button size="sm" variant="ghost" onClick={() => setMonday(mondayOf(todayIso()))}>
          This week
        </Button>
      </div>
      <p className="muted">Open hours are shaded, in the calendar's local time ({draft.timezone}); unsaved changes are included.</p>
      <ol className="calendar-preview" aria-label={`Open hours in the week of ${monday}`}>
        {days.map((day) => (
          <li key={day.date} className="calendar-preview__day" data-date={day.date}>
            <div className="calendar-preview__head">
              <span className="calendar-preview__name">
                {DAY_SHORT[day.weekday]} <span className="tnum">{day.date.slice(5)}</span>
              </span>
              {day.exception ? (
                <span className={`atum-pill atum-pill--sm ${day.exception === "closed" ? "atum-status--closed" : "atum-status--waiting"}`}>
                  {day.label ?? (day.exception === "closed" ? "Closed" : "Special hours")}
                </span>
              ) : null}
            </div>
            <div className="calendar-preview__bar" aria-hidden="true">
              {day.open.map((s) => (
                <span
                  key={s.start}
                  className="calendar-preview__open"
                  data-start={s.start}
                  data-end={s.end}
                  style={{ top: percent(s.start), height: percent(s.end - s.start) }}
                />
              ))}
            </div>
            <p className="calendar-preview__text">
              <span className="visually-hidden">{DAY_NAMES[day.weekday]} {day.date}: </span>
              {describeDay(day)}
            </p>
          </li>
        ))}
      </ol>
    </Panel>
  );
}
