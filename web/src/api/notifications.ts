/** The mail outbox (admins) and the caller's notification preferences. Keys under ["notifications"]. */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { request } from "./client";
import { nextCursor } from "./query";
import type { Schemas } from "./types";

export type OutboxMessage = Schemas["OutboxOut"];
export type OutboxStatus = OutboxMessage["status"];

export const notificationKeys = {
  all: ["notifications"] as const,
  outbox: (status: OutboxStatus | "") => [...notificationKeys.all, "outbox", status] as const,
  preferences: () => [...notificationKeys.all, "preferences"] as const,
};

export function useOutbox(status: OutboxStatus | "") {
  return useInfiniteQuery({
    queryKey: notificationKeys.outbox(status),
    queryFn: ({ pageParam, signal }) =>
      request("get", "/api/admin/notifications", { query: { status: status || undefined, cursor: pageParam, limit: 50 }, signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: nextCursor,
  });
}

export function useRetryNotification() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      request("post", "/api/admin/notifications/{notification_id}/retry", { path: { notification_id: id } }),
    meta: { success: "Queued for another attempt" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: [...notificationKeys.all, "outbox"] }),
  });
}

export function usePreferences(enabled: boolean) {
  return useQuery({
    queryKey: notificationKeys.preferences(),
    queryFn: ({ signal }) => request("get", "/api/me/preferences", { signal }),
    enabled,
  });
}

export function useSavePreferences() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (notify_enabled: boolean) => request("put", "/api/me/preferences", { body: { notify_enabled } }),
    meta: { success: "Notification settings saved" },
    onSuccess: (data) => queryClient.setQueryData(notificationKeys.preferences(), data),
  });
}
