/** Customer satisfaction: the page a mailed rating link opens (public). */
export { CsatPage } from "./CsatPage";
