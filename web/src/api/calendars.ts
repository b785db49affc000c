/** Business-hours calendars of the SLA clocks: /api/admin/calendars*. Keys under ["calendars"]. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { request } from "./client";
import type { Schemas } from "./types";

export type CalendarBody = Schemas["CalendarCreate"];
export type HolidayImportBody = Schemas["HolidayImport"];

export const calendarKeys = {
  all: ["calendars"] as const,
  list: () => [...calendarKeys.all, "list"] as const,
};

export function useCalendars(enabled = true) {
  return useQuery({
    queryKey: calendarKeys.list(),
    queryFn: ({ signal }) => request("get", "/api/admin/calendars", { query: { limit: 200 }, signal }),
    enabled,
    staleTime: 60_000,
  });
}

export function useCreateCalendar() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: CalendarBody) => request("post", "/api/admin/calendars", { body }),
    meta: { success: "Calendar created" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: calendarKeys.all }),
  });
}

export function useUpdateCalendar() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: CalendarBody & { id: string }) =>
      request("patch", "/api/admin/calendars/{calendar_id}", { path: { calendar_id: id }, body }),
    meta: { success: "Calendar saved" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: calendarKeys.all }),
  });
}

export function useDeleteCalendar() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => request("delete", "/api/admin/calendars/{calendar_id}", { path: { calendar_id: id } }),
    meta: { silent: true },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: calendarKeys.all }),
  });
}

export function useImportHolidays() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: HolidayImportBody & { id: string }) =>
      request("post", "/api/admin/calendars/{calendar_id}/holidays", { path: { calendar_id: id }, body }),
    meta: { silent: true },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: calendarKeys.all }),
  });
}
