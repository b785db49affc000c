/** Small pieces the admin pages share (inside this feature only). */
export function ActivePill({ active, on = "Active", off = "Inactive" }: { active: boolean; on?: string; off?: string }) {
  return (
    <span className={`atum-pill atum-pill--sm ${active ? "atum-status--resolved" : "atum-status--closed"}`}>
      {active ? on : off}
    </span>
  );
}
