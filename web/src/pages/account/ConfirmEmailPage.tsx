/**
 * /confirm-email/:token — the link sent to a new e-mail address. Confirmed on a button press,
 * never on load: mail scanners open links, and must not change anyone's address.
 */
import { useRef, useState } from "react";
import { useParams } from "react-router";
import { isInvalidToken, useConfirmEmail } from "../../api/account";
import { useMe } from "../../api/auth";
import { errorMessage } from "../../api/client";
import { Banner, Button, ButtonLink, FormError, useDocumentTitle } from "../../atum";
import { homeFor } from "../../lib/session";
import { PublicCard } from "./PublicCard";
import { INVALID_LINK } from "./ResetPasswordPage";

export function ConfirmEmailPage() {
  useDocumentTitle("Confirm your e-mail address");
  const { token = "" } = useParams();
  const me = useMe().data;
  const confirm = useConfirmEmail();
  const [state, setState] = useState<"ask" | "done" | "invalid">("ask");
  const [problem, setProblem] = useState<string | null>(null);
  const titleRef = useRef<HTMLHeadingElement>(null);
  const moveFocus = () => window.setTimeout(() => titleRef.current?.focus());

  const onConfirm = () => {
    setProblem(null);
    confirm.mutate(token, {
      onSuccess: () => {
        setState("done");
        moveFocus();
      },
      onError: (error) => {
        if (isInvalidToken(error)) {
          setState("invalid");
          moveFocus();
        } else {
          setProblem(errorMessage(error));
        }
      },
    });
  };

  const onward = me ? (
    <ButtonLink to={homeFor(me.role)} variant="primary" size="lg" block>
      Continue to ATUM DESK
    </ButtonLink>
  ) : (
    <ButtonLink to="/login" variant="primary" size="lg" block>
      Sign in
    </ButtonLink>
  );

  if (state === "done") {
    return (
      <PublicCard ref={titleRef} title="Your e-mail address was changed">
        <div className="atum-stack">
          <Banner tone="success">
            <p role="status">Sign in with the new address from now on. Mail about your account and tickets goes there.</p>
          </Banner>
          {onward}
        </div>
      </PublicCard>
    );
  }

  if (state === "invalid") {
    return (
      <PublicCard ref={titleRef} title="This link does not work">
        <div className="atum-stack">
          <Banner tone="warning">
            <p role="alert">{INVALID_LINK} Ask for the change again from your profile.</p>
          </Banner>
          {onward}
        </div>
      </PublicCard>
    );
  }

  return (
    <PublicCard ref={titleRef} title="Confirm your new e-mail address" sub="Your account's address changes when you confirm it here.">
      <div className="atum-stack">
        <FormError>{problem}</FormError>
        <Button variant="primary" size="lg" block busy={confirm.isPending} onClick={onConfirm} autoFocus>
          Confirm this address
        </Button>
      </div>
    </PublicCard>
  );
}
