/**
 * "These articles may answer your question": while a customer writes a new ticket, the public
 * knowledge-base articles that match what they typed (asked 400 ms after the typing stops, and
 * only once the title and description hold at least three words together). Hidden when nothing
 * matches.
 */
import { Link } from "react-router";
import { KB_QUESTION_MAX, useKbMatches } from "../../api/kb";
import { Icon, useDebounced } from "../../atum";
import "./kb.css";

export const DEFLECTION_DELAY_MS = 400;
export const DEFLECTION_MIN_WORDS = 3;

/** The question to ask for, or "" while there is too little to go on. */
export function deflectionQuestion(title: string, description: string): string {
  const text = `${title.trim()}\n${description.trim()}`.trim();
  const words = text.split(/\s+/).filter(Boolean);
  return words.length >= DEFLECTION_MIN_WORDS ? text.slice(0, KB_QUESTION_MAX) : "";
}

export function KbDeflection({ title, description }: { title: string; description: string }) {
  const question = useDebounced(deflectionQuestion(title, description), DEFLECTION_DELAY_MS);
  const matches = useKbMatches(question, question !== "");
  const items = question && matches.data ? matches.data.items : [];
  if (items.length === 0) return null;
  return (
    <aside className="kb-deflect" aria-labelledby="kb-deflect-title">
      <h2 id="kb-deflect-title" className="kb-deflect__title">
        <Icon name="file" /> These articles may answer your question
      </h2>
      <ul className="kb-deflect__list">
        {items.map((article) => (
          <li key={article.id} className="kb-deflect__item">
            <Link to={`/portal/kb/${article.id}`} target="_blank" rel="noopener" className="kb-deflect__link">
              {article.title}
              <span className="visually-hidden"> (opens in a new tab)</span>
            </Link>
            <p className="kb-deflect__excerpt">{article.excerpt}</p>
          </li>
        ))}
      </ul>
      <p className="kb-deflect__note faint">Still stuck? Create the ticket: we are here to help.</p>
    </aside>
  );
}
