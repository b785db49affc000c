import type { ReactNode } from "react";
import { Footer, HomeLink, SkipLink } from "./parts";

/** Landing, sign-in and public error pages: top bar, content, footer. */
export function PublicLayout({ actions, children, footer = true }: { actions?: ReactNode; children: ReactNode; footer?: boolean }) {
  return (
    <div className="atum-public">
      <SkipLink />
      <header className="atum-topbar atum-topbar--public">
        <div className="atum-topbar__inner">
          <HomeLink />
          <div className="atum-topbar__actions">{actions}</div>
        </div>
      </header>
      <main id="main" tabIndex={-1} className="atum-public__main">
        {children}
      </main>
      {footer ? <Footer /> : null}
    </div>
  );
}
