;; C = op(A)·op(B) in float32 with 128-bit SIMD, for lamina's cpu backend.
;;
;; The caller (src/backend/wasm/matmul-f32.ts) copies A and B into this module's memory and
;; calls $gemm. Route (BLIS-style): for each block of KC steps of the inner dimension, op(B)
;; is packed into column panels NR wide and op(A) into row panels MR tall, both k-major and
;; zero-padded to whole panels; transposes are absorbed by the packing strides. A 4×8
;; register-blocked microkernel then keeps the output tile in eight f32x4 locals. C is
;; written with a padded row stride and compacted in place at the end.
;;
;; Why 4×8 and no unrolling: V8 (TurboFan) schedules every load of a loop body before its
;; arithmetic, and x64 gives it 15 vector registers. 4×8 needs 8 accumulators + 2 B vectors +
;; 4 A splats + 1 product = 15; a 6×8 or 5×8 tile, or this one unrolled twice over k, spills
;; and runs ~35% slower (measurements in README.md here).
;; No relaxed-simd FMA: it is not on by default in Node 20's V8, so mul + add it is.
(module
  (memory (export "memory") 1)

  ;; microkernel tile: MR rows of op(A) × NR columns of op(B)
  (global $MR (export "MR") i32 (i32.const 4))
  (global $NR (export "NR") i32 (i32.const 8))
  ;; cache blocks: KC steps of k per packed block; MC rows of A per packed block
  (global $KC i32 (i32.const 256))
  (global $MC i32 (i32.const 128))
  ;; up to this many rows of op(A), B (untransposed) is read in place rather than packed
  (global $DIRECT_B_MAX_M i32 (i32.const 16))

  ;; Packs X into panels of $w rows (w = 4 or 8): X(r, c) is the float at
  ;; $src + 4·(r·$rs + c·$cs), for rows r0 … r0+rn and columns c0 … c0+cn. Panel q holds rows
  ;; r0+q·w … r0+q·w+w−1, column-major: dst[q][c][t]. Rows past rn are zeros.
  (func $pack (param $src i32) (param $rs i32) (param $cs i32)
              (param $r0 i32) (param $rn i32) (param $c0 i32) (param $cn i32)
              (param $w i32) (param $dst i32)
    (local $q i32) (local $valid i32) (local $c i32) (local $t i32) (local $g i32)
    (local $p i32) (local $row i32) (local $rsBytes i32) (local $csBytes i32) (local $columnBytes i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $lo v128) (local $hi v128)
    (local.set $rsBytes (i32.shl (local.get $rs) (i32.const 2)))
    (local.set $csBytes (i32.shl (local.get $cs) (i32.const 2)))
    (local.set $columnBytes (i32.shl (local.get $w) (i32.const 2)))
    (block $panels_done
      (loop $panels
        (br_if $panels_done (i32.ge_u (local.get $q) (local.get $rn)))
        ;; valid = min(w, rn − q)
        (local.set $valid (i32.sub (local.get $rn) (local.get $q)))
        (if (i32.gt_u (local.get $valid) (local.get $w))
          (then (local.set $valid (local.get $w))))
        ;; p: address of X(r0+q, c0)
        (local.set $p
          (i32.add (local.get $src)
            (i32.shl
              (i32.add
                (i32.mul (i32.add (local.get $r0) (local.get $q)) (local.get $rs))
                (i32.mul (local.get $c0) (local.get $cs)))
              (i32.const 2))))
        (local.set $c (i32.const 0))
        (if (i32.eq (local.get $valid) (local.get $w))
          (then
            (if (i32.eq (local.get $rs) (i32.const 1))
              (then
                ;; a panel's rows adjacent in memory: w/4 vector copies per column
                (loop $copy
                  (v128.store offset=0 (local.get $dst) (v128.load offset=0 (local.get $p)))
                  (if (i32.eq (local.get $w) (i32.const 8))
                    (then (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $p)))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $columnBytes)))
                  (local.set $p (i32.add (local.get $p) (local.get $csBytes)))
                  (local.set $c (i32.add (local.get $c) (i32.const 1)))
                  (br_if $copy (i32.lt_u (local.get $c) (local.get $cn)))))
              (else (if (i32.eq (local.get $cs) (i32.const 1))
                (then
                  ;; columns adjacent: 4×4 blocks, transposed in registers
                  (block $blocks_done
                    (loop $blocks
                      (br_if $blocks_done (i32.gt_u (i32.add (local.get $c) (i32.const 4)) (local.get $cn)))
                      (local.set $g (i32.const 0))
                      (loop $groups
                        (local.set $row (i32.add (local.get $p) (i32.mul (local.get $g) (local.get $rsBytes))))
                        (local.set $x0 (v128.load (local.get $row)))
                        (local.set $row (i32.add (local.get $row) (local.get $rsBytes)))
                        (local.set $x1 (v128.load (local.get $row)))
                        (local.set $row (i32.add (local.get $row) (local.get $rsBytes)))
                        (local.set $x2 (v128.load (local.get $row)))
                        (local.set $row (i32.add (local.get $row) (local.get $rsBytes)))
                        (local.set $x3 (v128.load (local.get $row)))
                        ;; lo = [x0₀ x1₀ x0₁ x1₁], hi = [x2₀ x3₀ x2₁ x3₁]; then the same for lanes 2, 3
                        (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x0) (local.get $x1)))
                        (local.set $hi (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x2) (local.get $x3)))
                        (local.set $row (i32.add (local.get $dst) (i32.shl (local.get $g) (i32.const 2))))
                        (v128.store (local.get $row)
                          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $lo) (local.get $hi)))
                        (local.set $row (i32.add (local.get $row) (local.get $columnBytes)))
                        (v128.store (local.get $row)
                          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $lo) (local.get $hi)))
                        (local.set $lo (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x0) (local.get $x1)))
                        (local.set $hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x2) (local.get $x3)))
                        (local.set $row (i32.add (local.get $row) (local.get $columnBytes)))
                        (v128.store (local.get $row)
                          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $lo) (local.get $hi)))
                        (local.set $row (i32.add (local.get $row) (local.get $columnBytes)))
                        (v128.store (local.get $row)
                          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $lo) (local.get $hi)))
                        (local.set $g (i32.add (local.get $g) (i32.const 4)))
                        (br_if $groups (i32.lt_u (local.get $g) (local.get $w))))
                      (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $columnBytes) (i32.const 2))))
                      (local.set $p (i32.add (local.get $p) (i32.const 16)))
                      (local.set $c (i32.add (local.get $c) (i32.const 4)))
                      (br $blocks)))))))))
        ;; what is left (a last partial panel, or columns past the last 4×4 block): element by
        ;; element, zeros past the last row
        (block $columns_done
          (loop $columns
            (br_if $columns_done (i32.ge_u (local.get $c) (local.get $cn)))
            (local.set $t (i32.const 0))
            (loop $rows
              (f32.store (local.get $dst)
                (if (result f32) (i32.lt_u (local.get $t) (local.get $valid))
                  (then (f32.load (i32.add (local.get $p) (i32.mul (local.get $t) (local.get $rsBytes)))))
                  (else (f32.const 0))))
              (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
              (local.set $t (i32.add (local.get $t) (i32.const 1)))
              (br_if $rows (i32.lt_u (local.get $t) (local.get $w))))
            (local.set $p (i32.add (local.get $p) (local.get $csBytes)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $columns)))
        (local.set $q (i32.add (local.get $q) (local.get $w)))
        (br $panels))))

  ;; The 4×8 tile at $c (row stride $ldc bytes) gets Σ_p a[p][0..3] ⊗ b[p][0..7] over $kc ≥ 1
  ;; steps of the packed panel $a (4 floats per step) and the 8 floats at $b, $b + $bStep, …
  ;; (a packed panel, $bStep = 32, or B's rows in place); with $accumulate the tile's previous
  ;; contents are added, otherwise overwritten.
  (func $kernel4x8 (param $a i32) (param $b i32) (param $bStep i32) (param $c i32) (param $kc i32) (param $ldc i32) (param $accumulate i32)
    (local $end i32)
    (local $b0 v128) (local $b1 v128) (local $s v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $kc) (i32.const 4))))
    (loop $k
      (local.set $b0 (v128.load offset=0 (local.get $b)))
      (local.set $b1 (v128.load offset=16 (local.get $b)))
      (local.set $s (v128.load32_splat offset=0 (local.get $a)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=4 (local.get $a)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=8 (local.get $a)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=12 (local.get $a)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (local.get $bStep)))
      (br_if $k (i32.ne (local.get $a) (local.get $end))))
    (if (local.get $accumulate)
      (then
        (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 (local.get $c))))
        (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $c))))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (local.set $c10 (f32x4.add (local.get $c10) (v128.load offset=0 (local.get $c))))
        (local.set $c11 (f32x4.add (local.get $c11) (v128.load offset=16 (local.get $c))))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (local.set $c20 (f32x4.add (local.get $c20) (v128.load offset=0 (local.get $c))))
        (local.set $c21 (f32x4.add (local.get $c21) (v128.load offset=16 (local.get $c))))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (local.set $c30 (f32x4.add (local.get $c30) (v128.load offset=0 (local.get $c))))
        (local.set $c31 (f32x4.add (local.get $c31) (v128.load offset=16 (local.get $c))))
        (local.set $c (i32.sub (local.get $c) (i32.mul (local.get $ldc) (i32.const 3))))))
    (v128.store offset=0 (local.get $c) (local.get $c00))
    (v128.store offset=16 (local.get $c) (local.get $c01))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store offset=0 (local.get $c) (local.get $c10))
    (v128.store offset=16 (local.get $c) (local.get $c11))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store offset=0 (local.get $c) (local.get $c20))
    (v128.store offset=16 (local.get $c) (local.get $c21))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store offset=0 (local.get $c) (local.get $c30))
    (v128.store offset=16 (local.get $c) (local.get $c31)))

  ;; C (m×n, row-major, at $c) = op(A)·op(B), where A is at $a (m×k, or k×m when $transA),
  ;; B at $b (k×n, or n×k when $transB), m, k, n ≥ 1. $c must have room for
  ;; roundup(m, MR)·roundup(n, NR) floats and $work for roundup(m, MR)·k + k·roundup(n, NR).
  (func (export "gemm") (param $a i32) (param $b i32) (param $c i32)
                        (param $m i32) (param $k i32) (param $n i32)
                        (param $transA i32) (param $transB i32) (param $work i32)
    (local $mPad i32) (local $nPad i32) (local $ldc i32)
    (local $packedA i32) (local $packedB i32)
    (local $aRowStride i32) (local $aColStride i32) (local $bRowStride i32) (local $bColStride i32)
    (local $pc i32) (local $kc i32) (local $ic i32) (local $mc i32) (local $mcPad i32)
    (local $jr i32) (local $ir i32) (local $i i32)
    (local $direct i32) (local $bBase i32) (local $bPanelBytes i32) (local $bStep i32)
    (local.set $mPad (i32.and (i32.add (local.get $m) (i32.const 3)) (i32.const -4)))
    (local.set $nPad (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8)))
    (local.set $ldc (i32.shl (local.get $nPad) (i32.const 2)))
    (local.set $packedB (local.get $work))
    (local.set $packedA (i32.add (local.get $work) (i32.shl (i32.mul (local.get $k) (local.get $nPad)) (i32.const 2))))
    ;; op(A)(i, p) and op(B)ᵀ(j, p) as strided matrices
    (if (local.get $transA)
      (then (local.set $aRowStride (i32.const 1)) (local.set $aColStride (local.get $m)))
      (else (local.set $aRowStride (local.get $k)) (local.set $aColStride (i32.const 1))))
    (if (local.get $transB)
      (then (local.set $bRowStride (local.get $k)) (local.set $bColStride (i32.const 1)))
      (else (local.set $bRowStride (i32.const 1)) (local.set $bColStride (local.get $n))))
    ;; few rows of A: each panel of B would serve only a few microkernel calls, so the kernel
    ;; reads B's rows in place instead of packing them. Past column n it reads the next row's
    ;; floats, which only reach the padding columns of C that are dropped at the end.
    (local.set $direct (i32.and (i32.eqz (local.get $transB)) (i32.le_u (local.get $m) (global.get $DIRECT_B_MAX_M))))
    (loop $kBlocks
      (local.set $kc (i32.sub (local.get $k) (local.get $pc)))
      (if (i32.gt_u (local.get $kc) (global.get $KC)) (then (local.set $kc (global.get $KC))))
      (if (local.get $direct)
        (then
          (local.set $bBase (i32.add (local.get $b) (i32.shl (i32.mul (local.get $pc) (local.get $n)) (i32.const 2))))
          (local.set $bPanelBytes (i32.const 32))
          (local.set $bStep (i32.shl (local.get $n) (i32.const 2))))
        (else
          (call $pack (local.get $b) (local.get $bRowStride) (local.get $bColStride)
                      (i32.const 0) (local.get $n) (local.get $pc) (local.get $kc)
                      (i32.const 8) (local.get $packedB))
          (local.set $bBase (local.get $packedB))
          (local.set $bPanelBytes (i32.shl (local.get $kc) (i32.const 5)))
          (local.set $bStep (i32.const 32))))
      (local.set $ic (i32.const 0))
      (loop $mBlocks
        (local.set $mc (i32.sub (local.get $m) (local.get $ic)))
        (if (i32.gt_u (local.get $mc) (global.get $MC)) (then (local.set $mc (global.get $MC))))
        (local.set $mcPad (i32.and (i32.add (local.get $mc) (i32.const 3)) (i32.const -4)))
        (call $pack (local.get $a) (local.get $aRowStride) (local.get $aColStride)
                    (local.get $ic) (local.get $mc) (local.get $pc) (local.get $kc)
                    (i32.const 4) (local.get $packedA))
        (local.set $jr (i32.const 0))
        (loop $columnPanels
          (local.set $ir (i32.const 0))
          (loop $rowPanels
            (call $kernel4x8
              (i32.add (local.get $packedA) (i32.shl (i32.mul (local.get $ir) (local.get $kc)) (i32.const 2)))
              (i32.add (local.get $bBase) (i32.mul (i32.shr_u (local.get $jr) (i32.const 3)) (local.get $bPanelBytes)))
              (local.get $bStep)
              (i32.add (local.get $c)
                (i32.add (i32.mul (i32.add (local.get $ic) (local.get $ir)) (local.get $ldc))
                         (i32.shl (local.get $jr) (i32.const 2))))
              (local.get $kc) (local.get $ldc) (local.get $pc))
            (local.set $ir (i32.add (local.get $ir) (i32.const 4)))
            (br_if $rowPanels (i32.lt_u (local.get $ir) (local.get $mcPad))))
          (local.set $jr (i32.add (local.get $jr) (i32.const 8)))
          (br_if $columnPanels (i32.lt_u (local.get $jr) (local.get $nPad))))
        (local.set $ic (i32.add (local.get $ic) (local.get $mc)))
        (br_if $mBlocks (i32.lt_u (local.get $ic) (local.get $m))))
      (local.set $pc (i32.add (local.get $pc) (local.get $kc)))
      (br_if $kBlocks (i32.lt_u (local.get $pc) (local.get $k))))
    ;; drop the padding columns: row i moves from i·nPad to i·n (never past its source)
    (if (i32.ne (local.get $n) (local.get $nPad))
      (then
        (local.set $i (i32.const 1))
        (block $compacted
          (loop $compact
            (br_if $compacted (i32.ge_u (local.get $i) (local.get $m)))
            (memory.copy
              (i32.add (local.get $c) (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 2)))
              (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc)))
              (i32.shl (local.get $n) (i32.const 2)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $compact))))))
)
