// One vocabulary for every number the views show: gCO₂e for mass, gCO₂e/kWh for intensity, UTC times.
export const INTENSITY_UNIT = "gCO₂e/kWh";

const number = (value: number, digits = 0): string =>
  value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Grams of CO₂e, scaled to kg or t when large: "651.8 gCO₂e", "12.4 kgCO₂e", "3.1 tCO₂e". */
export const grams = (value: number | null | undefined): string => {
  if (value === null || value === undefined) return "—";
  const size = Math.abs(value);
  if (size >= 1e6) return `${number(value / 1e6, 2)} tCO₂e`;
  if (size >= 1e4) return `${number(value / 1e3, 1)} kgCO₂e`;
  return `${number(value, 1)} gCO₂e`;
};

export const intensity = (value: number | null | undefined): string =>
  value === null || value === undefined ? "—" : `${number(value)} ${INTENSITY_UNIT}`;

export const kwh = (value: number | null | undefined): string =>
  value === null || value === undefined ? "—" : `${number(value, value < 10 ? 2 : 1)} kWh`;

export const duration = (seconds: number | null | undefined): string => {
  if (seconds === null || seconds === undefined) return "—";
  const minutes = Math.round(Math.abs(seconds) / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 48) return rest ? `${hours} h ${rest} min` : `${hours} h`;
  return `${number(hours / 24, 1)} days`;
};

const pad = (value: number): string => String(value).padStart(2, "0");
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export const clock = (date: Date): string => `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}`;
export const day = (date: Date): string =>
  `${DAYS[date.getUTCDay()]} ${pad(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]}`;
export const sameDay = (a: Date, b: Date): boolean => a.toISOString().slice(0, 10) === b.toISOString().slice(0, 10);

/** "14:00 UTC", or "Fri 13 Oct 14:00 UTC" when ``moment`` is not on the day of ``reference``. */
export const when = (iso: string | null | undefined, reference?: Date): string => {
  if (!iso) return "—";
  const date = new Date(iso);
  return reference && sameDay(date, reference) ? `${clock(date)} UTC` : `${day(date)} ${clock(date)} UTC`;
};

/** "2023-10-12 14:00 UTC" for tables and CSV. */
export const stamp = (iso: string | null | undefined): string =>
  iso ? `${iso.slice(0, 10)} ${clock(new Date(iso))} UTC` : "—";

export const percentChange = (value: number | null, reference: number | null): string | null =>
  value === null || reference === null || reference === 0
    ? null
    : `${value < reference ? "−" : "+"}${number(Math.abs(value / reference - 1) * 100)} %`;
