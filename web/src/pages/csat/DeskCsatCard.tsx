/** The desk ticket page's rating card: what the customer said about the resolution. */
import type { StaffCsat } from "../../api/csat";
import { Card, formatDateTime } from "../../atum";
import "./csat.css";

const WORDS = { good: "Good", okay: "Okay", bad: "Bad" } as const;

export function DeskCsatCard({ csat }: { csat: StaffCsat }) {
  return (
    <Card title="Customer rating" titleId="csat-title" headingLevel={2} surface="content">
      <dl className="atum-kv">
        <dt>Rating</dt>
        <dd>
          <strong data-rating={csat.rating}>{WORDS[csat.rating]}</strong>
          {csat.current ? null : " (an earlier resolution)"}
        </dd>
        {csat.comment ? (
          <>
            <dt>Comment</dt>
            <dd className="csat-summary">{csat.comment}</dd>
          </>
        ) : null}
        <dt>By</dt>
        <dd>{csat.rated_by?.name ?? "—"}</dd>
        <dt>Rated</dt>
        <dd className="tnum">{formatDateTime(csat.updated_at)}</dd>
      </dl>
    </Card>
  );
}
