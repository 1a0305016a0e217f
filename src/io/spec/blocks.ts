/**
 * How a built model records its inner layers (a `sequential`'s list, a `residual` or
 * `parallel` block's), read by `fromLayer` and by the tree layouts.
 *
 * @module
 */
import type { AnyLayer } from '../../nn/layer.js'

/** Whether a layer is a `sequential` that lists its layers (a hand-written one, or one built by {@link build}). */
export const isSequential = (layer: AnyLayer): boolean => layer.kind === 'sequential' && Array.isArray(layer.layers)

/** Whether a layer is a `residual` or `parallel` block that records its inner layers. */
export const isBlock = (layer: AnyLayer): boolean => (layer.kind === 'residual' || layer.kind === 'parallel') && Array.isArray(layer.layers)
