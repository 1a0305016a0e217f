/**
 * The page's layout as boxes: the rectangles of the elements a selector finds, and which of
 * them overlap.
 */
import type { Page } from 'playwright-core'

/** A rectangle of the page (CSS pixels, relative to the document). */
export interface Box {
  readonly name: string
  readonly left: number
  readonly top: number
  readonly right: number
  readonly bottom: number
}

/** Pairs of boxes that overlap by more than a pixel each way (touching is fine). */
export const overlaps = (boxes: readonly Box[]): string[] =>
  boxes.flatMap((a, i) =>
    boxes.slice(i + 1).flatMap((b) => (Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1 ? [`${a.name} overlaps ${b.name}`] : []))
  )

/** The boxes of the visible elements a selector finds, named by their id, data attributes or text. */
export const boxesOf = (page: Page, selector: string): Promise<Box[]> =>
  page.$$eval(selector, (els) =>
    els.flatMap((el) => {
      const r = el.getBoundingClientRect()
      if (r.width === 0 || r.height === 0) return []
      const e = el as HTMLElement
      const name = e.id !== '' ? `#${e.id}` : `${el.tagName.toLowerCase()}${Object.entries(e.dataset ?? {}).map(([k, v]) => `[${k}=${v}]`).join('')} «${(el.textContent ?? '').trim().slice(0, 24)}»`
      return [{ name, left: r.left + scrollX, top: r.top + scrollY, right: r.right + scrollX, bottom: r.bottom + scrollY }]
    })
  )
