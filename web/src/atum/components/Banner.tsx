import type { ReactNode } from "react";
import { Icon, type IconName } from "./Icon";

const GLYPH: Record<string, IconName> = { info: "spark", warning: "pauseCircle", success: "checkCircle", danger: "alert" };

export function Banner({ tone = "info", icon, children }: { tone?: "info" | "warning" | "success" | "danger"; icon?: IconName; children: ReactNode }) {
  return (
    <div className={`atum-banner atum-banner--${tone}`}>
      <Icon name={icon ?? GLYPH[tone]!} />
      <div>{children}</div>
    </div>
  );
}
