/**
 * The "How did we do?" form: three choices (good / okay / bad), an optional comment and a submit.
 * Shared by the page a mailed link opens and the portal's ticket page. Nothing is recorded until
 * the submit (a link only pre-selects the choice).
 */
import { useState, type FormEvent } from "react";
import { Button, FormError, TextArea } from "../../atum";
import { CSAT_COMMENT_MAX, CSAT_RATINGS, type CsatInput, type CsatRating } from "../../api/csat";
import "./csat.css";

export function CsatForm({
  initialRating,
  initialComment,
  busy,
  problem,
  submitLabel = "Send rating",
  onSubmit,
}: {
  initialRating: CsatRating | null;
  initialComment: string | null;
  busy: boolean;
  problem?: string | null;
  submitLabel?: string;
  onSubmit: (input: CsatInput) => void;
}) {
  const [rating, setRating] = useState<CsatRating | null>(initialRating);
  const [comment, setComment] = useState(initialComment ?? "");
  const [missing, setMissing] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!rating) {
      setMissing(true);
      return;
    }
    setMissing(false);
    onSubmit({ rating, comment: comment.trim() || null });
  };

  return (
    <form className="atum-form" onSubmit={submit} noValidate>
      <fieldset className="csat-choices">
        <legend className="csat-choices__legend">Your rating</legend>
        <div className="csat-choices__row">
          {CSAT_RATINGS.map((choice) => (
            <label key={choice.value} className="csat-choice">
              <input
                type="radio"
                name="csat-rating"
                value={choice.value}
                checked={rating === choice.value}
                onChange={() => setRating(choice.value)}
              />
              <span>{choice.label}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <TextArea
        label="Comment (optional)"
        value={comment}
        maxLength={CSAT_COMMENT_MAX}
        rows={3}
        onChange={(event) => setComment(event.target.value)}
      />
      <FormError>{missing ? "Choose good, okay or bad." : (problem ?? null)}</FormError>
      <Button type="submit" variant="primary" busy={busy}>
        {submitLabel}
      </Button>
    </form>
  );
}
