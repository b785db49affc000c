/** The account: the pages opened from mails (public) and the profile (inside the shells). */
export { ConfirmEmailPage } from "./ConfirmEmailPage";
export { ForgotPasswordPage } from "./ForgotPasswordPage";
export { ProfilePage } from "./ProfilePage";
export { ResetPasswordPage } from "./ResetPasswordPage";
export { WelcomePage } from "./WelcomePage";
