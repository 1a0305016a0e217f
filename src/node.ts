/**
 * `lamina/node`: the parts of lamina that need Node's file system. The root module stays
 * free of `node:` imports so it runs in a browser.
 *
 * @module lamina/node
 */
export * as Atomic from './io/atomic.js'
