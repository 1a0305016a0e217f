;; float32 elementwise kernels for the cpu backend, WebAssembly SIMD (f32x4), written by hand.
;; Assembled by `npm run build:wasm` (scripts/build-wasm.ts) into elementwise-f32.generated.ts.
;;
;; Every kernel walks its arrays as whole 16-byte vectors: element counts are rounded up to a
;; multiple of 4, and the caller lays its regions out padded to whole vectors (the padding's
;; results are computed and ignored; float arithmetic cannot trap). Addresses are in bytes and
;; 16-byte aligned. `out` may equal an input (each vector is loaded before it is stored), which
;; is how the JavaScript side uses them: it copies the inputs in, computes in place, copies out.
;;
;; Semantics are the scalar IEEE single-precision ones, so each lane equals JavaScript's
;; Math.fround of the float64 operation on the same inputs: + − × ÷ and √ are correctly
;; rounded (float64 then rounding to float32 rounds the same way), and f32x4.min/max propagate
;; NaN and order −0 below +0, as Math.min/Math.max do. NaN payloads are not specified.
(module
  (memory (export "memory") 1)

  ;; bytes spanned by n elements rounded up to whole vectors
  (func $vectorBytes (param $n i32) (result i32)
    (i32.shl (i32.and (i32.add (local.get $n) (i32.const 3)) (i32.const -4)) (i32.const 2)))

  ;; ---------------------------------------------------------------- binary: out = a op b

  (func (export "add") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.add
            (v128.load (i32.add (local.get $a) (local.get $i)))
            (v128.load (i32.add (local.get $b) (local.get $i)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  (func (export "sub") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.sub
            (v128.load (i32.add (local.get $a) (local.get $i)))
            (v128.load (i32.add (local.get $b) (local.get $i)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  (func (export "mul") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.mul
            (v128.load (i32.add (local.get $a) (local.get $i)))
            (v128.load (i32.add (local.get $b) (local.get $i)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  (func (export "div") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.div
            (v128.load (i32.add (local.get $a) (local.get $i)))
            (v128.load (i32.add (local.get $b) (local.get $i)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  (func (export "maximum") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.max
            (v128.load (i32.add (local.get $a) (local.get $i)))
            (v128.load (i32.add (local.get $b) (local.get $i)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  (func (export "minimum") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.min
            (v128.load (i32.add (local.get $a) (local.get $i)))
            (v128.load (i32.add (local.get $b) (local.get $i)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  ;; ---------------------------------------------------------------- unary: out = op x

  (func (export "neg") (param $x i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.neg (v128.load (i32.add (local.get $x) (local.get $i)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  (func (export "abs") (param $x i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.abs (v128.load (i32.add (local.get $x) (local.get $i)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  (func (export "sqrt") (param $x i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.sqrt (v128.load (i32.add (local.get $x) (local.get $i)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  ;; max(x, 0): branch-free, NaN stays NaN (as Math.max(x, 0)), −0 becomes +0
  (func (export "relu") (param $x i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.max
            (v128.load (i32.add (local.get $x) (local.get $i)))
            (v128.const f32x4 0 0 0 0)))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

;; ---------------------------------------------------------------- comparisons: out = a ⋈ b ? 1 : 0

  ;; IEEE comparisons, as JavaScript's: NaN is unordered (only != holds), −0 equals +0. The
  ;; comparison's all-ones lanes select the bits of 1.0.
  (func (export "greater") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (v128.and
            (f32x4.gt
              (v128.load (i32.add (local.get $a) (local.get $i)))
              (v128.load (i32.add (local.get $b) (local.get $i))))
            (v128.const f32x4 1 1 1 1)))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  ;; relu's derivative mask x > 0 without a second operand to copy in (the cpu backend's compare
  ;; against shared zeros); NaN gives 0, as x > 0 does.
  (func (export "greaterThanZero") (param $x i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (v128.and
            (f32x4.gt
              (v128.load (i32.add (local.get $x) (local.get $i)))
              (v128.const f32x4 0 0 0 0))
            (v128.const f32x4 1 1 1 1)))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  (func (export "less") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (v128.and
            (f32x4.lt
              (v128.load (i32.add (local.get $a) (local.get $i)))
              (v128.load (i32.add (local.get $b) (local.get $i))))
            (v128.const f32x4 1 1 1 1)))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  (func (export "greaterEqual") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (v128.and
            (f32x4.ge
              (v128.load (i32.add (local.get $a) (local.get $i)))
              (v128.load (i32.add (local.get $b) (local.get $i))))
            (v128.const f32x4 1 1 1 1)))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  (func (export "lessEqual") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (v128.and
            (f32x4.le
              (v128.load (i32.add (local.get $a) (local.get $i)))
              (v128.load (i32.add (local.get $b) (local.get $i))))
            (v128.const f32x4 1 1 1 1)))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  (func (export "equal") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (v128.and
            (f32x4.eq
              (v128.load (i32.add (local.get $a) (local.get $i)))
              (v128.load (i32.add (local.get $b) (local.get $i))))
            (v128.const f32x4 1 1 1 1)))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  (func (export "notEqual") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (v128.and
            (f32x4.ne
              (v128.load (i32.add (local.get $a) (local.get $i)))
              (v128.load (i32.add (local.get $b) (local.get $i))))
            (v128.const f32x4 1 1 1 1)))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  ;; out = mask != 0 ? a : b (a NaN mask is not 0, −0 is): the lanes of a where the mask holds, of b elsewhere
  (func (export "select") (param $mask i32) (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (call $vectorBytes (local.get $n)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $i))
          (v128.bitselect
            (v128.load (i32.add (local.get $a) (local.get $i)))
            (v128.load (i32.add (local.get $b) (local.get $i)))
            (f32x4.ne (v128.load (i32.add (local.get $mask) (local.get $i))) (v128.const f32x4 0 0 0 0))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

;; ---------------------------------------------------------------- gradient descent

  ;; out = p − g·lr in float64, then rounded to float32: JavaScript's `p[i] - g[i] * lr` stored
  ;; into a Float32Array (both products and the difference rounded to float64 first), so an
  ;; update equals the JavaScript loop's bit for bit. Each vector of 4 goes as two f64x2 halves.
  (func (export "sgd") (param $p i32) (param $g i32) (param $out i32) (param $n i32) (param $lr f64)
    (local $i i32) (local $end i32) (local $rate v128) (local $pv v128) (local $gv v128)
    (local.set $end (call $vectorBytes (local.get $n)))
    (local.set $rate (f64x2.splat (local.get $lr)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (local.set $pv (v128.load (i32.add (local.get $p) (local.get $i))))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $i))))
        (v128.store (i32.add (local.get $out) (local.get $i))
          ;; lanes 0, 1 from the low half's result, lanes 2, 3 from the high half's
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero
              (f64x2.sub
                (f64x2.promote_low_f32x4 (local.get $pv))
                (f64x2.mul (f64x2.promote_low_f32x4 (local.get $gv)) (local.get $rate))))
            (f32x4.demote_f64x2_zero
              (f64x2.sub
                (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $pv) (local.get $pv)))
                (f64x2.mul
                  (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $gv) (local.get $gv)))
                  (local.get $rate))))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))
;; ---------------------------------------------------------------- Adam

  ;; One Adam update of n parameters, in place: m ← m + (g − m)·c1, v ← v + (g² − v)·c2, each
  ;; rounded to float32 as it is stored, then p ← p·keep − (scale·m)/(√v + eps) with the rounded m
  ;; and v: the JavaScript loop of Optim.adam (c1 = 1 − β₁, c2 = 1 − β₂, and the bias corrections
  ;; folded into scale and eps), in float64 and rounded to float32 as a Float32Array stores it, so
  ;; an update equals the loop's bit for bit. Each vector of 4 goes as two f64x2 halves.
  (func $adamHalf (param $p v128) (param $g v128) (param $m v128) (param $v v128)
    (param $keep v128) (param $scale v128) (param $eps v128) (param $c1 v128) (param $c2 v128)
    (result v128 v128 v128)
    (local $m1 v128) (local $v1 v128)
    ;; m and v rounded to float32 (demoted and promoted back): the loop reads them from a Float32Array
    (local.set $m1 (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero
      (f64x2.add (local.get $m) (f64x2.mul (f64x2.sub (local.get $g) (local.get $m)) (local.get $c1))))))
    (local.set $v1 (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero
      (f64x2.add (local.get $v) (f64x2.mul (f64x2.sub (f64x2.mul (local.get $g) (local.get $g)) (local.get $v)) (local.get $c2))))))
    (f64x2.sub
      (f64x2.mul (local.get $p) (local.get $keep))
      (f64x2.div (f64x2.mul (local.get $scale) (local.get $m1)) (f64x2.add (f64x2.sqrt (local.get $v1)) (local.get $eps))))
    (local.get $m1)
    (local.get $v1))

  ;; the high two lanes of a float32 vector, as float64
  (func $high (param $x v128) (result v128)
    (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $x) (local.get $x))))

  ;; two float64 halves back into one float32 vector (lanes 0, 1 from the low, 2, 3 from the high)
  (func $join (param $low v128) (param $high v128) (result v128)
    (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (local.get $low)) (f32x4.demote_f64x2_zero (local.get $high))))

  (func (export "adam") (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $keep f64) (param $scale f64) (param $eps f64) (param $c1 f64) (param $c2 f64)
    (local $i i32) (local $end i32)
    (local $K v128) (local $S v128) (local $E v128) (local $C1 v128) (local $C2 v128)
    (local $pv v128) (local $gv v128) (local $mv v128) (local $vv v128)
    (local $pl v128) (local $ml v128) (local $vl v128)
    (local $ph v128) (local $mh v128) (local $vh v128)
    (local.set $end (call $vectorBytes (local.get $n)))
    (local.set $K (f64x2.splat (local.get $keep)))
    (local.set $S (f64x2.splat (local.get $scale)))
    (local.set $E (f64x2.splat (local.get $eps)))
    (local.set $C1 (f64x2.splat (local.get $c1)))
    (local.set $C2 (f64x2.splat (local.get $c2)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (local.set $pv (v128.load (i32.add (local.get $p) (local.get $i))))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $i))))
        (local.set $mv (v128.load (i32.add (local.get $m) (local.get $i))))
        (local.set $vv (v128.load (i32.add (local.get $v) (local.get $i))))
        (call $adamHalf
          (f64x2.promote_low_f32x4 (local.get $pv)) (f64x2.promote_low_f32x4 (local.get $gv))
          (f64x2.promote_low_f32x4 (local.get $mv)) (f64x2.promote_low_f32x4 (local.get $vv))
          (local.get $K) (local.get $S) (local.get $E) (local.get $C1) (local.get $C2))
        (local.set $vl) (local.set $ml) (local.set $pl)
        (call $adamHalf
          (call $high (local.get $pv)) (call $high (local.get $gv)) (call $high (local.get $mv)) (call $high (local.get $vv))
          (local.get $K) (local.get $S) (local.get $E) (local.get $C1) (local.get $C2))
        (local.set $vh) (local.set $mh) (local.set $ph)
        (v128.store (i32.add (local.get $p) (local.get $i)) (call $join (local.get $pl) (local.get $ph)))
        (v128.store (i32.add (local.get $m) (local.get $i)) (call $join (local.get $ml) (local.get $mh)))
        (v128.store (i32.add (local.get $v) (local.get $i)) (call $join (local.get $vl) (local.get $vh)))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))
)
