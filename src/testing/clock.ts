/**
 * Time helpers shared by the simulator modules. Shopify renders times in the shop's time zone
 * with an offset and whole seconds (`2008-01-10T11:00:00-05:00`); the simulator's shops live at a
 * fixed -05:00 (no daylight saving, so every time string round-trips to one instant).
 */

/** The shop's UTC offset in minutes. */
export const SHOP_OFFSET_MINUTES = -300;

/** Formats an epoch-ms instant as Shopify does: shop-local, whole seconds, with offset. */
export function formatShopTime(ms: number): string {
  const local = new Date(Math.floor(ms / 1000) * 1000 + SHOP_OFFSET_MINUTES * 60_000);
  const sign = SHOP_OFFSET_MINUTES < 0 ? '-' : '+';
  const abs = Math.abs(SHOP_OFFSET_MINUTES);
  const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return local.toISOString().slice(0, 19) + off;
}

/** Parses a time filter value (ISO 8601 with or without offset; no offset means UTC). NaN when invalid. */
export function parseTimeParam(value: string): number {
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : Number.NaN;
}

/** An injectable clock (epoch ms). */
export type Clock = () => number;
