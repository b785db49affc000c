import { useMe } from "../../api/auth";
import { isStaffRole } from "../../api/types";
import { homeFor } from "../../lib/session";
import { ButtonLink, Icon, Panel, PublicLayout, useDocumentTitle, type IconName } from "../../atum";
import "./landing.css";

const FEATURES: { icon: IconName; title: string; text: string }[] = [
  {
    icon: "gate",
    title: "An acceptance gate",
    text: "Every ticket is reviewed and accepted by a support manager before work starts. Nothing slips in unseen.",
  },
  {
    icon: "pauseCircle",
    title: "SLA clocks that pause",
    text: "Clocks start at acceptance and pause while you wait on the customer, so the numbers are fair on both sides.",
  },
  {
    icon: "history",
    title: "A complete audit trail",
    text: "Every acceptance, assignment, status change, note and download is recorded in an append-only log.",
  },
  {
    icon: "server",
    title: "Runs on your own server",
    text: "One Linux host, your PostgreSQL, your mail relay. No outside service ever sees your customers' data.",
  },
];

const STEPS: { title: string; text: string }[] = [
  { title: "Customer opens a ticket", text: "In the portal, with priority, service and attachments. They get a ticket number at once." },
  { title: "Support accepts and assigns", text: "A manager accepts it, the SLA clocks start, and the right agent or team takes it." },
  { title: "Resolved, with a root cause", text: "The agent replies, resolves it with a resolution and root cause, and the customer is told." },
];

export function LandingPage() {
  useDocumentTitle(null);
  const me = useMe().data;
  const home = me ? homeFor(me.role) : null;
  return (
    <PublicLayout
      actions={
        home ? (
          <ButtonLink to={home} variant="secondary" size="sm" iconAfter="arrowRight">
            {isStaffRole(me!.role) ? "Open the desk" : "Open the portal"}
          </ButtonLink>
        ) : (
          <ButtonLink to="/login" variant="secondary" size="sm">
            Sign in
          </ButtonLink>
        )
      }
    >
      <section className="landing-hero" aria-labelledby="hero-title">
        <div className="landing-hero__glow" aria-hidden="true" />
        <p className="landing-hero__eyebrow">
          <Icon name="sun" size="sm" /> Self-hosted helpdesk
        </p>
        <h1 id="hero-title" className="landing-hero__title">
          Support that starts with a yes<span className="landing-hero__dot">.</span>
        </h1>
        <p className="landing-hero__lead">
          ATUM DESK gives every customer ticket an owner, a fair SLA clock and a full record — on a server you control.
        </p>
        <div className="landing-hero__ctas">
          <ButtonLink to={home ?? "/login"} variant="primary" size="lg" iconAfter="arrowRight">
            {home ? "Continue" : "Sign in"}
          </ButtonLink>
          <a className="atum-btn atum-btn--secondary atum-btn--lg" href="#how-it-works">
            How it works
          </a>
        </div>
      </section>

      <section className="landing-section" aria-labelledby="features-title">
        <h2 id="features-title" className="visually-hidden">
          What you get
        </h2>
        <ul className="landing-features">
          {FEATURES.map((f) => (
            <li key={f.title}>
              <Panel as="article" className="landing-feature" padding="lg">
                <span className="landing-feature__icon" aria-hidden="true">
                  <Icon name={f.icon} size="lg" />
                </span>
                <h3 className="landing-feature__title">{f.title}</h3>
                <p className="landing-feature__text">{f.text}</p>
              </Panel>
            </li>
          ))}
        </ul>
      </section>

      <section id="how-it-works" className="landing-section landing-flow" aria-labelledby="flow-title" tabIndex={-1}>
        <p className="landing-section__eyebrow">How it works</p>
        <h2 id="flow-title" className="landing-section__title">
          How a ticket flows
        </h2>
        <ol className="landing-steps">
          {STEPS.map((s, i) => (
            <li key={s.title} className="landing-step">
              <span className="landing-step__no tnum" aria-hidden="true">
                {i + 1}
              </span>
              <div>
                <h3 className="landing-step__title">{s.title}</h3>
                <p className="landing-step__text">{s.text}</p>
              </div>
            </li>
          ))}
        </ol>
      </section>
    </PublicLayout>
  );
}
