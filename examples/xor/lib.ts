// Seed 003's XOR example as pure functions: the exact ReLU solution, the linear model and
// its normal equations, and a small ReLU network trained with lamina's Train.fit.
import { Layer, Layers, Loss, Optim, Random, Train, add, matmul, relu, tensor, transpose, valueAndGrad, concat, ones, sub, mul } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'

/** The four inputs of XOR, one per row, and their targets f*(x) = x₁ XOR x₂. */
export const X = tensor([
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1]
])
export const targets = [0, 1, 1, 0] as const
const Y = tensor([[0], [1], [1], [0]])

// ---------------------------------------------------------------- the exact solution

/** Parameters of f(x; W, c, w, b) = wᵀ max{0, Wᵀx + c} + b (seed 003), written for a batch of rows as relu(X·W + c)·w + b. */
export interface XorNet {
  readonly W: Tensor
  readonly c: Tensor
  readonly w: Tensor
  readonly b: Tensor
}

/** Seed 003's solution: W = [[1, 1], [1, 1]], c = [0, −1], w = [1, −2], b = 0. */
export const exactSolution: XorNet = {
  W: tensor([
    [1, 1],
    [1, 1]
  ]),
  c: tensor([0, -1]),
  w: tensor([[1], [-2]]),
  b: tensor([0])
}

/** The hidden layer h = relu(X·W + c), one row per input. */
export const hidden = (p: XorNet, x: Tensor = X): Tensor => relu(add(matmul(x, p.W), p.c))

/** The network's outputs relu(X·W + c)·w + b, shape [N, 1]. */
export const forward = (p: XorNet, x: Tensor = X): Tensor => add(matmul(hidden(p, x), p.w), p.b)

/** Whether every output rounds to its XOR target. */
export const solvesXor = (outputs: readonly number[]): boolean => outputs.length === 4 && outputs.every((v, i) => Math.round(v) === targets[i])

// ---------------------------------------------------------------- the linear model

/** A linear model f(x) = xᵀw + b. */
export interface Linear {
  readonly w: Tensor
  readonly b: Tensor
}

const linear = (p: Linear, x: Tensor = X): Tensor => add(matmul(x, p.w), p.b)

/** Seed 003's cost J(θ) = ¼ Σ (f*(x) − f(x; θ))² over the four points. */
export const linearCost = (p: Linear): Tensor => Loss.mse(linear(p), Y)

/** Solves a small dense system M·v = r by Gauss–Jordan elimination with partial pivoting. */
export const solve = (M: readonly (readonly number[])[], r: readonly number[]): number[] => {
  const n = r.length
  const a = M.map((row, i) => [...row, r[i]!])
  for (let col = 0; col < n; col++) {
    let pivot = col
    for (let i = col + 1; i < n; i++) if (Math.abs(a[i]![col]!) > Math.abs(a[pivot]![col]!)) pivot = i
    ;[a[col], a[pivot]] = [a[pivot]!, a[col]!]
    const p = a[col]![col]!
    if (p === 0) throw new Error('solve: singular system')
    for (let i = 0; i < n; i++) {
      if (i === col) continue
      const f = a[i]![col]! / p
      for (let j = col; j <= n; j++) a[i]![j] = a[i]![j]! - f * a[col]![j]!
    }
  }
  return a.map((row, i) => row[n]! / row[i]!)
}

/**
 * The normal equations AᵀA θ = Aᵀy of the linear model, with A = [X | 1] and θ = (w₁, w₂, b):
 * AᵀA and Aᵀy are computed with lamina's matmul, the 3×3 system by elimination.
 */
export const normalEquations = (): { AtA: number[][]; Aty: number[]; theta: number[] } => {
  const A = concat([X, ones([4, 1])], 1)
  const At = transpose(A)
  const AtA = matmul(At, A).toArray() as number[][]
  const Aty = (matmul(At, Y).toArray() as number[][]).map((r) => r[0]!)
  return { AtA, Aty, theta: solve(AtA, Aty) }
}

/** Gradient descent on J with lamina's grad, from w = 0, b = 0, until ‖∇J‖∞ < tol. */
export const fitLinear = (options?: { readonly lr?: number; readonly tol?: number; readonly maxSteps?: number }) => {
  const lr = options?.lr ?? 0.5
  const tol = options?.tol ?? 1e-14
  const maxSteps = options?.maxSteps ?? 10_000
  let p: Linear = { w: tensor([[0], [0]]), b: tensor([0]) }
  let steps = 0
  for (; steps < maxSteps; steps++) {
    const [, g] = valueAndGrad(linearCost)(p)
    const norm = Math.max(...g.w.data, ...g.b.data, -Math.min(...g.w.data, ...g.b.data))
    if (norm < tol) break
    p = { w: sub(p.w, mul(g.w, lr)), b: sub(p.b, mul(g.b, lr)) }
  }
  const w = [...p.w.data]
  const final = p
  return { w, b: p.b.item(), mse: linearCost(p).item(), outputs: [...linear(p).data], steps, predict: (x: Tensor) => linear(final, x) }
}

// ---------------------------------------------------------------- a trained ReLU network

/** The 2-h-1 ReLU network y = relu(x·W + c)·w + b as lamina layers. */
export const reluNet = (width: number) => Layer.sequential(Layers.dense(2, width), Layers.relu(), Layers.dense(width, 1))

/**
 * Trains the 2-`width`-1 ReLU network on XOR with Train.fit: MSE against the targets, Adam,
 * full batches of the four points; the seed draws the initial weights and the batch order.
 */
export const trainXor = (seed: number, width = 2, options?: { readonly epochs?: number; readonly lr?: number }) => {
  const model = reluNet(width)
  const [initKey, fitKey] = Random.split(Random.key(seed))
  const result = Train.fit({
    model,
    params: model.init(initKey!),
    optimizer: Optim.adam({ lr: options?.lr ?? 0.05 }),
    loss: (y, labels) => Loss.mse(y, labels),
    data: { x: X, labels: Int32Array.from(targets) },
    epochs: options?.epochs ?? 500,
    batchSize: 4,
    key: fitKey!
  })
  const predict = (x: Tensor) => Layer.apply(model, result.params, x)
  const outputs = [...predict(X).data]
  const [first, , second] = result.params.layers
  return {
    seed,
    width,
    outputs,
    solved: solvesXor(outputs),
    loss: result.history[result.history.length - 1]!.loss,
    firstLoss: result.history[0]!.loss,
    params: { W: first.w, c: first.b, w: second.w, b: second.b } as XorNet,
    predict
  }
}

/** The seeds in `seeds` for which the trained 2-`width`-1 network rounds every output to XOR. */
export const successfulSeeds = (seeds: readonly number[], width: number): number[] => seeds.filter((s) => trainXor(s, width).solved)
