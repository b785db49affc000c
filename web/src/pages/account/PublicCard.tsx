/** The card the pages opened from a mail sit in (public layout, like the sign-in page). */
import { forwardRef, type ReactNode } from "react";
import { Panel, PublicLayout } from "../../atum";
import "./account.css";

export const PublicCard = forwardRef<HTMLHeadingElement, { title: ReactNode; sub?: ReactNode; children: ReactNode; foot?: ReactNode }>(
  function PublicCard({ title, sub, children, foot }, ref) {
    return (
      <PublicLayout footer={false}>
        <div className="acct-public">
          <Panel className="acct-public__card" padding="lg" aria-labelledby="acct-public-title">
            <img src="/brand/logo.svg" alt="" className="acct-public__logo" width={48} height={48} />
            <h1 id="acct-public-title" className="acct-public__title" ref={ref} tabIndex={-1}>
              {title}
            </h1>
            {sub ? <p className="acct-public__sub">{sub}</p> : null}
            <div className="acct-public__body">{children}</div>
          </Panel>
          {foot ? <p className="acct-public__foot">{foot}</p> : null}
        </div>
      </PublicLayout>
    );
  },
);
