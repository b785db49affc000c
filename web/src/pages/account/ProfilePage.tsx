/**
 * /portal/profile and /desk/profile: the signed-in user's details, password, e-mail address,
 * two-factor sign-in and sessions. `#two-factor` brings the two-factor part into view. A session
 * that may only enrol a second factor (the role requires one and the grace period is over) sees
 * that part alone.
 */
import { useEffect, useRef } from "react";
import { useLocation } from "react-router";
import { useMe, useMfaNotice } from "../../api/auth";
import { Loading, PageHeader, useDocumentTitle } from "../../atum";
import { TWO_FACTOR_HASH } from "../../lib/session";
import { DetailsSection, EmailSection, PasswordSection } from "./ProfileSections";
import { SessionsSection } from "./SessionsSection";
import { TwoFactorSection } from "./TwoFactorSection";
import "./account.css";

export function ProfilePage() {
  useDocumentTitle("Your profile");
  const me = useMe().data;
  const notice = useMfaNotice();
  const restricted = Boolean(notice?.restricted);
  const location = useLocation();
  const twoFactor = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (location.hash !== TWO_FACTOR_HASH) return;
    const heading = twoFactor.current;
    if (!heading) return;
    heading.scrollIntoView?.({ block: "start" });
    heading.focus({ preventScroll: true });
  }, [location.hash, location.key, me?.id]);

  if (!me) return <Loading label="Loading your profile" />;

  return (
    <>
      <PageHeader
        title="Your profile"
        subtitle={
          restricted
            ? "Set up two-factor sign-in to continue."
            : "Your details, password and e-mail address, two-factor sign-in, and where you are signed in."
        }
      />
      <div className="acct-profile">
        {restricted ? null : (
          <>
            <DetailsSection me={me} />
            <PasswordSection me={me} />
            <EmailSection me={me} />
          </>
        )}
        <TwoFactorSection me={me} restricted={restricted} ref={twoFactor} />
        {restricted ? null : <SessionsSection />}
      </div>
    </>
  );
}
