// Property tests draw fresh random cases on every local run (that is how they find things).
// In CI the seed is fixed, so a red build is reproducible and a rare case cannot make an
// unrelated change fail; set LAMINA_FC_SEED to replay or vary it.
import fc from 'fast-check'

const seed = process.env['LAMINA_FC_SEED'] ?? (process.env['CI'] ? '20261122' : undefined)
if (seed !== undefined) fc.configureGlobal({ seed: Number(seed) })
