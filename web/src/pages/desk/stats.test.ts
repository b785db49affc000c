import { auditDetail } from "./AuditTrail";
import { dayLabel, formatDuration, formatPct, formatRate, intervalFor, presetRange } from "./stats";

describe("report figures", () => {
  it("says business durations the way people do", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(0)).toBe("0 s");
    expect(formatDuration(45.4)).toBe("45 s");
    expect(formatDuration(600)).toBe("10 min");
    expect(formatDuration(3600)).toBe("1 h");
    expect(formatDuration(8100)).toBe("2 h 15 min");
    expect(formatDuration(27000)).toBe("7 h 30 min");
    expect(formatDuration(86400 * 3 + 3600 * 4 + 59)).toBe("3 d 4 h");
    expect(formatDuration(86400 * 2)).toBe("2 d");
  });

  it("shows percentages and rates with at most one decimal", () => {
    expect(formatPct(50)).toBe("50 %");
    expect(formatPct(33.33)).toBe("33.3 %");
    expect(formatPct(null)).toBe("—");
    expect(formatRate(0.25)).toBe("25 %");
    expect(formatRate(0.1234)).toBe("12.3 %");
    expect(formatRate(null)).toBe("—");
  });

  it("turns presets into local dates, both days included", () => {
    const today = new Date(2026, 2, 31, 15, 0);
    expect(presetRange("7d", today)).toEqual({ from: "2026-03-25", to: "2026-03-31" });
    expect(presetRange("30d", today)).toEqual({ from: "2026-03-02", to: "2026-03-31" });
    expect(presetRange("90d", today)).toEqual({ from: "2026-01-01", to: "2026-03-31" });
    expect(presetRange("year", today)).toEqual({ from: "2026-01-01", to: "2026-03-31" });
    expect(presetRange("all", today).from).toBe("2016-04-03");
    expect(intervalFor("2026-01-01", "2026-03-31")).toBe("day");
    expect(intervalFor("2026-01-01", "2026-04-30")).toBe("week");
    expect(dayLabel("2026-03-02")).toBe("2 Mar");
  });
});

describe("audit trail wording", () => {
  it("names fields, people and times instead of raw ids", () => {
    const names = { "b3304a2b-df10-4834-952a-423c7b40d526": "Arun Agent" };
    expect(
      auditDetail(
        {
          old_value: { status: "ACCEPTED", assigned_to: null },
          new_value: { status: "ASSIGNED", assigned_to: "b3304a2b-df10-4834-952a-423c7b40d526", is_internal: false },
        },
        names,
      ),
    ).toBe("Status: ACCEPTED → ASSIGNED · Assignee: — → Arun Agent");
    expect(auditDetail({ old_value: null, new_value: { is_internal: true } })).toBe("");
  });
});
