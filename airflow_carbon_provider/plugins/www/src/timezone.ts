// The user's time zone, as the Airflow UI itself chooses it: its time zone selector stores the choice in
// localStorage under "timezone" (a JSON string, through usehooks-ts' useLocalStorage, which announces a change
// in the same tab with a "local-storage" event and in other tabs with "storage"); without a choice the UI shows
// the browser's zone. The host keeps that choice in a React context of its own that plugins cannot reach, so the
// views read the same storage and follow the same events. A value no browser knows falls back to UTC.
import { useSyncExternalStore } from "react";

export const TIMEZONE_KEY = "timezone";
const EVENTS = ["storage", "local-storage"];

export const isZone = (zone: unknown): zone is string => {
  if (typeof zone !== "string" || zone === "") return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

const stored = (): unknown => {
  try {
    const raw = window.localStorage.getItem(TIMEZONE_KEY);
    return raw === null ? undefined : JSON.parse(raw);
  } catch {
    return undefined;
  }
};

/** The zone the Airflow UI shows times in: the user's choice, else the browser's zone, else UTC. */
export const currentZone = (): string =>
  [stored(), Intl.DateTimeFormat().resolvedOptions().timeZone].find(isZone) ?? "UTC";

const subscribe = (onChange: () => void): (() => void) => {
  EVENTS.forEach((name) => window.addEventListener(name, onChange));
  return () => EVENTS.forEach((name) => window.removeEventListener(name, onChange));
};

/** The current zone, re-rendering the caller when the user picks another one in Airflow's selector. */
export const useTimezone = (): string => useSyncExternalStore(subscribe, currentZone, () => "UTC");
