import { formatDateTime, Icon } from "../../atum";
import { customerTimeline, type TimelineTicket } from "./timeline";

export function Timeline({ ticket }: { ticket: TimelineTicket }) {
  const steps = customerTimeline(ticket);
  return (
    <ol className="portal-timeline" aria-label="Ticket progress">
      {steps.map((step) => (
        <li
          key={step.key}
          className={`portal-timeline__step portal-timeline__step--${step.state} portal-timeline__step--${step.key}`}
          aria-current={step.state === "current" ? "step" : undefined}
        >
          <span className="portal-timeline__dot" aria-hidden="true">
            {step.state === "done" ? (
              <Icon name="check" size="sm" />
            ) : step.key === "waiting" ? (
              <Icon name="pause" size="sm" />
            ) : step.key === "cancelled" ? (
              <Icon name="x" size="sm" />
            ) : null}
          </span>
          <span className="portal-timeline__text">
            <span className="portal-timeline__label">{step.label}</span>
            <span className="visually-hidden">
              {step.state === "done" ? " (done)" : step.state === "current" ? " (current)" : " (not yet)"}
            </span>
            {step.at && step.state !== "upcoming" ? (
              <time className="portal-timeline__at tnum" dateTime={step.at}>
                {formatDateTime(step.at)}
              </time>
            ) : null}
          </span>
        </li>
      ))}
    </ol>
  );
}
