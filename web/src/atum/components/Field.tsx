/**
 * Labelled form controls. Every control has a real <label>, an optional hint and an error
 * wired through aria-describedby / aria-invalid, so getByLabel() and screen readers agree.
 */
import {
  forwardRef,
  useId,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from "react";

interface FieldShellProps {
  id: string;
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null;
  required?: boolean;
  hideLabel?: boolean;
  className?: string;
  children: ReactNode;
}

function FieldShell({ id, label, hint, error, required, hideLabel, className, children }: FieldShellProps) {
  return (
    <div className={["atum-field", error && "atum-field--invalid", className].filter(Boolean).join(" ")}>
      {/* The required marker sits outside the <label> so the accessible name is exactly the label. */}
      <div className={hideLabel ? "visually-hidden" : "atum-field__label-row"}>
        <label htmlFor={id} className="atum-field__label">
          {label}
        </label>
        {required && !hideLabel ? (
          <span className="atum-field__required" aria-hidden="true">
            *
          </span>
        ) : null}
      </div>
      {children}
      {hint ? (
        <p id={`${id}-hint`} className="atum-field__hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="atum-field__error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function describedBy(id: string, hint?: ReactNode, error?: string | null): string | undefined {
  const ids = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

type Common = {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null;
  hideLabel?: boolean;
  fieldClassName?: string;
};

export type TextFieldProps = Common & InputHTMLAttributes<HTMLInputElement>;

export const TextField = forwardRef<HTMLInputElement, TextFieldProps>(function TextField(
  { label, hint, error, hideLabel, fieldClassName, id, className, required, ...rest },
  ref,
) {
  const auto = useId();
  const inputId = id ?? auto;
  return (
    <FieldShell id={inputId} label={label} hint={hint} error={error} required={required} hideLabel={hideLabel} className={fieldClassName}>
      <input
        ref={ref}
        id={inputId}
        className={["atum-input", className].filter(Boolean).join(" ")}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(inputId, hint, error)}
        required={required}
        {...rest}
      />
    </FieldShell>
  );
});

export type TextAreaProps = Common & TextareaHTMLAttributes<HTMLTextAreaElement>;

export const TextArea = forwardRef<HTMLTextAreaElement, TextAreaProps>(function TextArea(
  { label, hint, error, hideLabel, fieldClassName, id, className, required, rows = 4, ...rest },
  ref,
) {
  const auto = useId();
  const inputId = id ?? auto;
  return (
    <FieldShell id={inputId} label={label} hint={hint} error={error} required={required} hideLabel={hideLabel} className={fieldClassName}>
      <textarea
        ref={ref}
        id={inputId}
        rows={rows}
        className={["atum-input", "atum-textarea", className].filter(Boolean).join(" ")}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(inputId, hint, error)}
        required={required}
        {...rest}
      />
    </FieldShell>
  );
});

export type SelectFieldProps = Common & SelectHTMLAttributes<HTMLSelectElement>;

export const SelectField = forwardRef<HTMLSelectElement, SelectFieldProps>(function SelectField(
  { label, hint, error, hideLabel, fieldClassName, id, className, required, children, ...rest },
  ref,
) {
  const auto = useId();
  const inputId = id ?? auto;
  return (
    <FieldShell id={inputId} label={label} hint={hint} error={error} required={required} hideLabel={hideLabel} className={fieldClassName}>
      <div className="atum-select">
        <select
          ref={ref}
          id={inputId}
          className={["atum-input", "atum-select__control", className].filter(Boolean).join(" ")}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy(inputId, hint, error)}
          required={required}
          {...rest}
        >
          {children}
        </select>
      </div>
    </FieldShell>
  );
});

export interface CheckboxProps extends Omit<InputHTMLAttributes<HTMLInputElement>, "type"> {
  label: ReactNode;
  hint?: ReactNode;
}

export const Checkbox = forwardRef<HTMLInputElement, CheckboxProps>(function Checkbox(
  { label, hint, id, className, ...rest },
  ref,
) {
  const auto = useId();
  const inputId = id ?? auto;
  return (
    <div className={["atum-check", className].filter(Boolean).join(" ")}>
      <input
        ref={ref}
        id={inputId}
        type="checkbox"
        className="atum-check__box"
        aria-describedby={hint ? `${inputId}-hint` : undefined}
        {...rest}
      />
      <label htmlFor={inputId} className="atum-check__label">
        {label}
      </label>
      {hint ? (
        <p id={`${inputId}-hint`} className="atum-field__hint atum-check__hint">
          {hint}
        </p>
      ) : null}
    </div>
  );
});

/** A form-level error (role=alert) shown above the actions. */
export function FormError({ children }: { children?: ReactNode }) {
  if (!children) return null;
  return (
    <div className="atum-form-error" role="alert">
      {children}
    </div>
  );
}
