;; im2col and col2im for lamina's float32 convolution (src/backend/wasm/conv-f32.ts): the windows
;; of one image written as rows of a matrix, and the windows' gradient added back into an image.
;; The memory is imported: it is the one of an instance of matmul-f32.wat, so the windows are
;; multiplied where they are written and nothing is copied between modules.
;;
;; Geometry (every count in floats, every address in bytes): an image is [c, h, w]; a tap (i, j)
;; of output position (r, q) reads row r*sh + i*dh - top, column q*sw + j*dw - left, 0 outside the
;; image. Matrix row (ci*kh + i)*kw + j starts `ldd` floats after the previous one and holds the
;; ho*wo output positions of that tap, row-major. Rows are short (LeNet's: 28 and 10 floats), so
;; copies and zeros are vector loops with a scalar tail: memory.copy and memory.fill cost a call
;; into the engine each, more than such a row.
(module
  (import "env" "memory" (memory 1))

  ;; the first output position whose tap lands at or after input index 0: ceil(max(0, -off)/s), at most out
  (func $first (param $off i32) (param $s i32) (param $out i32) (result i32)
    (local $p i32)
    (if (i32.ge_s (local.get $off) (i32.const 0)) (then (return (i32.const 0))))
    (local.set $p (i32.div_u (i32.add (i32.sub (i32.const 0) (local.get $off)) (i32.sub (local.get $s) (i32.const 1))) (local.get $s)))
    (if (result i32) (i32.gt_u (local.get $p) (local.get $out)) (then (local.get $out)) (else (local.get $p))))

  ;; one past the last output position whose tap lands before input index n: min(out, floor((n - 1 - off)/s) + 1), at least lo
  (func $last (param $n i32) (param $off i32) (param $s i32) (param $out i32) (param $lo i32) (result i32)
    (local $room i32) (local $hi i32)
    (local.set $room (i32.sub (i32.sub (local.get $n) (i32.const 1)) (local.get $off)))
    (if (i32.lt_s (local.get $room) (i32.const 0)) (then (return (local.get $lo))))
    (local.set $hi (i32.add (i32.div_u (local.get $room) (local.get $s)) (i32.const 1)))
    (if (i32.gt_u (local.get $hi) (local.get $out)) (then (local.set $hi (local.get $out))))
    (if (result i32) (i32.lt_u (local.get $hi) (local.get $lo)) (then (local.get $lo)) (else (local.get $hi))))

  ;; $n floats of zeros at $at
  (func $zero (param $at i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $at) (i32.shl (local.get $n) (i32.const 2))))
    (block $vectors_done
      (loop $vectors
        (br_if $vectors_done (i32.gt_u (i32.add (local.get $at) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $at) (v128.const i32x4 0 0 0 0))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $vectors)))
    (block $done
      (loop $scalars
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (f32.store (local.get $at) (f32.const 0))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $scalars))))

  ;; $n floats copied from $src to $dst (the regions do not overlap)
  (func $copy (param $dst i32) (param $src i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 2))))
    (block $vectors_done
      (loop $vectors
        (br_if $vectors_done (i32.gt_u (i32.add (local.get $dst) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $dst) (v128.load (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br $vectors)))
    (block $done
      (loop $scalars
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (f32.store (local.get $dst) (f32.load (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (br $scalars))))

  ;; The windows of the image at $x into the matrix at $dst (row stride $ldd floats).
  (func (export "im2col")
    (param $x i32) (param $c i32) (param $h i32) (param $w i32) (param $kh i32) (param $kw i32)
    (param $ho i32) (param $wo i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32)
    (param $top i32) (param $left i32) (param $dst i32) (param $ldd i32)
    (local $ci i32) (local $i i32) (local $j i32) (local $r i32) (local $q i32)
    (local $offR i32) (local $offC i32) (local $rLo i32) (local $rHi i32) (local $lo i32) (local $hi i32)
    (local $row i32) (local $out i32) (local $src i32) (local $plane i32) (local $rowBytes i32) (local $planeBytes i32)
    (local.set $rowBytes (i32.shl (local.get $wo) (i32.const 2)))
    (local.set $planeBytes (i32.shl (i32.mul (local.get $h) (local.get $w)) (i32.const 2)))
    (local.set $row (local.get $dst))
    (local.set $plane (local.get $x))
    (loop $channels
      (local.set $i (i32.const 0))
      (loop $tapRows
        (local.set $offR (i32.sub (i32.mul (local.get $i) (local.get $dh)) (local.get $top)))
        (local.set $rLo (call $first (local.get $offR) (local.get $sh) (local.get $ho)))
        (local.set $rHi (call $last (local.get $h) (local.get $offR) (local.get $sh) (local.get $ho) (local.get $rLo)))
        (local.set $j (i32.const 0))
        (loop $tapColumns
          (local.set $offC (i32.sub (i32.mul (local.get $j) (local.get $dw)) (local.get $left)))
          (local.set $lo (call $first (local.get $offC) (local.get $sw) (local.get $wo)))
          (local.set $hi (call $last (local.get $w) (local.get $offC) (local.get $sw) (local.get $wo) (local.get $lo)))
          (local.set $out (local.get $row))
          (local.set $r (i32.const 0))
          (loop $outRows
            (if (i32.or (i32.lt_u (local.get $r) (local.get $rLo)) (i32.ge_u (local.get $r) (local.get $rHi)))
              (then (call $zero (local.get $out) (local.get $wo)))
              (else
                ;; src: the address of image column 0 of the tap's input row (column q adds q*sw)
                (local.set $src
                  (i32.add (local.get $plane)
                    (i32.shl
                      (i32.add
                        (i32.mul (i32.add (i32.mul (local.get $r) (local.get $sh)) (local.get $offR)) (local.get $w))
                        (local.get $offC))
                      (i32.const 2))))
                (call $zero (local.get $out) (local.get $lo))
                (if (i32.eq (local.get $sw) (i32.const 1))
                  (then
                    (call $copy
                      (i32.add (local.get $out) (i32.shl (local.get $lo) (i32.const 2)))
                      (i32.add (local.get $src) (i32.shl (local.get $lo) (i32.const 2)))
                      (i32.sub (local.get $hi) (local.get $lo))))
                  (else
                    (local.set $q (local.get $lo))
                    (block $strided_done
                      (loop $strided
                        (br_if $strided_done (i32.ge_u (local.get $q) (local.get $hi)))
                        (f32.store
                          (i32.add (local.get $out) (i32.shl (local.get $q) (i32.const 2)))
                          (f32.load (i32.add (local.get $src) (i32.shl (i32.mul (local.get $q) (local.get $sw)) (i32.const 2)))))
                        (local.set $q (i32.add (local.get $q) (i32.const 1)))
                        (br $strided)))))
                (call $zero (i32.add (local.get $out) (i32.shl (local.get $hi) (i32.const 2))) (i32.sub (local.get $wo) (local.get $hi)))))
            (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br_if $outRows (i32.lt_u (local.get $r) (local.get $ho))))
          (local.set $row (i32.add (local.get $row) (i32.shl (local.get $ldd) (i32.const 2))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $tapColumns (i32.lt_u (local.get $j) (local.get $kw))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $tapRows (i32.lt_u (local.get $i) (local.get $kh))))
      (local.set $plane (i32.add (local.get $plane) (local.get $planeBytes)))
      (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
      (br_if $channels (i32.lt_u (local.get $ci) (local.get $c)))))

  ;; im2col where every tap lies inside the image (no padding, or an image padded beforehand by
  ;; $pad) and output columns are adjacent taps (stride 1 along a row): each matrix row is runs
  ;; of wo floats copied from the image, with no bounds to test. Same layout as im2col.
  (func (export "im2colInside")
    (param $x i32) (param $c i32) (param $h i32) (param $w i32) (param $kh i32) (param $kw i32)
    (param $ho i32) (param $wo i32) (param $sh i32) (param $dh i32) (param $dw i32) (param $dst i32) (param $ldd i32)
    (local $ci i32) (local $i i32) (local $j i32) (local $r i32) (local $src i32) (local $tapSrc i32)
    (local $out i32) (local $at i32) (local $end i32) (local $vectorEnd i32) (local $row i32) (local $plane i32)
    (local $rowBytes i32) (local $planeBytes i32) (local $srcStep i32)
    (local.set $rowBytes (i32.shl (local.get $wo) (i32.const 2)))
    (local.set $planeBytes (i32.shl (i32.mul (local.get $h) (local.get $w)) (i32.const 2)))
    (local.set $srcStep (i32.shl (i32.mul (local.get $sh) (local.get $w)) (i32.const 2)))
    (local.set $row (local.get $dst))
    (local.set $plane (local.get $x))
    (loop $channels
      (local.set $i (i32.const 0))
      (loop $tapRows
        (local.set $j (i32.const 0))
        (loop $tapColumns
          ;; the tap's input for output position (0, 0)
          (local.set $tapSrc
            (i32.add (local.get $plane)
              (i32.shl (i32.add (i32.mul (i32.mul (local.get $i) (local.get $dh)) (local.get $w)) (i32.mul (local.get $j) (local.get $dw))) (i32.const 2))))
          (local.set $out (local.get $row))
          (local.set $r (i32.const 0))
          (loop $outRows
            (local.set $src (local.get $tapSrc))
            (local.set $at (local.get $out))
            (local.set $end (i32.add (local.get $out) (local.get $rowBytes)))
            (local.set $vectorEnd (i32.add (local.get $out) (i32.and (local.get $rowBytes) (i32.const -16))))
            (block $vectors_done
              (loop $vectors
                (br_if $vectors_done (i32.ge_u (local.get $at) (local.get $vectorEnd)))
                (v128.store (local.get $at) (v128.load (local.get $src)))
                (local.set $at (i32.add (local.get $at) (i32.const 16)))
                (local.set $src (i32.add (local.get $src) (i32.const 16)))
                (br $vectors)))
            (block $scalars_done
              (loop $scalars
                (br_if $scalars_done (i32.ge_u (local.get $at) (local.get $end)))
                (f32.store (local.get $at) (f32.load (local.get $src)))
                (local.set $at (i32.add (local.get $at) (i32.const 4)))
                (local.set $src (i32.add (local.get $src) (i32.const 4)))
                (br $scalars)))
            (local.set $tapSrc (i32.add (local.get $tapSrc) (local.get $srcStep)))
            (local.set $out (local.get $end))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br_if $outRows (i32.lt_u (local.get $r) (local.get $ho))))
          (local.set $row (i32.add (local.get $row) (i32.shl (local.get $ldd) (i32.const 2))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $tapColumns (i32.lt_u (local.get $j) (local.get $kw))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $tapRows (i32.lt_u (local.get $i) (local.get $kh))))
      (local.set $plane (i32.add (local.get $plane) (local.get $planeBytes)))
      (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
      (br_if $channels (i32.lt_u (local.get $ci) (local.get $c)))))

  ;; The image [c, h, w] at $x placed at row $top, column $left of zeros [c, hp, wp] at $dst
  ;; (what does not fit is left out: the rows and columns past the last window)
  (func (export "pad")
    (param $x i32) (param $c i32) (param $h i32) (param $w i32) (param $top i32) (param $left i32)
    (param $hp i32) (param $wp i32) (param $dst i32)
    (local $ci i32) (local $r i32) (local $rows i32) (local $columns i32) (local $to i32) (local $from i32)
    (memory.fill (local.get $dst) (i32.const 0) (i32.shl (i32.mul (local.get $c) (i32.mul (local.get $hp) (local.get $wp))) (i32.const 2)))
    (local.set $rows (i32.sub (local.get $hp) (local.get $top)))
    (if (i32.gt_s (local.get $rows) (local.get $h)) (then (local.set $rows (local.get $h))))
    (local.set $columns (i32.sub (local.get $wp) (local.get $left)))
    (if (i32.gt_s (local.get $columns) (local.get $w)) (then (local.set $columns (local.get $w))))
    (if (i32.or (i32.le_s (local.get $rows) (i32.const 0)) (i32.le_s (local.get $columns) (i32.const 0))) (then (return)))
    (loop $channels
      (local.set $r (i32.const 0))
      (loop $rows_loop
        (local.set $to
          (i32.add (local.get $dst)
            (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $ci) (local.get $hp)) (i32.add (local.get $r) (local.get $top))) (local.get $wp)) (local.get $left)) (i32.const 2))))
        (local.set $from
          (i32.add (local.get $x) (i32.shl (i32.mul (i32.add (i32.mul (local.get $ci) (local.get $h)) (local.get $r)) (local.get $w)) (i32.const 2))))
        (call $copy (local.get $to) (local.get $from) (local.get $columns))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $rows_loop (i32.lt_u (local.get $r) (local.get $rows))))
      (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
      (br_if $channels (i32.lt_u (local.get $ci) (local.get $c)))))

  ;; The matrix at $src (row stride $lds floats, the layout im2col writes) added back into the
  ;; image at $dx: every window's element onto the input element it was read from, in matrix-row
  ;; order (the caller zeroes the image first).
  (func (export "col2im")
    (param $src i32) (param $c i32) (param $h i32) (param $w i32) (param $kh i32) (param $kw i32)
    (param $ho i32) (param $wo i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32)
    (param $top i32) (param $left i32) (param $dx i32) (param $lds i32)
    (local $ci i32) (local $i i32) (local $j i32) (local $r i32) (local $q i32) (local $end i32)
    (local $offR i32) (local $offC i32) (local $rLo i32) (local $rHi i32) (local $lo i32) (local $hi i32)
    (local $row i32) (local $in i32) (local $dst i32) (local $plane i32) (local $planeBytes i32) (local $a i32) (local $b i32)
    (local.set $planeBytes (i32.shl (i32.mul (local.get $h) (local.get $w)) (i32.const 2)))
    (local.set $row (local.get $src))
    (local.set $plane (local.get $dx))
    (loop $channels
      (local.set $i (i32.const 0))
      (loop $tapRows
        (local.set $offR (i32.sub (i32.mul (local.get $i) (local.get $dh)) (local.get $top)))
        (local.set $rLo (call $first (local.get $offR) (local.get $sh) (local.get $ho)))
        (local.set $rHi (call $last (local.get $h) (local.get $offR) (local.get $sh) (local.get $ho) (local.get $rLo)))
        (local.set $j (i32.const 0))
        (loop $tapColumns
          (local.set $offC (i32.sub (i32.mul (local.get $j) (local.get $dw)) (local.get $left)))
          (local.set $lo (call $first (local.get $offC) (local.get $sw) (local.get $wo)))
          (local.set $hi (call $last (local.get $w) (local.get $offC) (local.get $sw) (local.get $wo) (local.get $lo)))
          (local.set $r (local.get $rLo))
          (block $rows_done
            (loop $outRows
              (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rHi)))
              (local.set $in (i32.add (local.get $row) (i32.shl (i32.mul (local.get $r) (local.get $wo)) (i32.const 2))))
              (local.set $dst
                (i32.add (local.get $plane)
                  (i32.shl
                    (i32.add
                      (i32.mul (i32.add (i32.mul (local.get $r) (local.get $sh)) (local.get $offR)) (local.get $w))
                      (local.get $offC))
                    (i32.const 2))))
              (local.set $q (local.get $lo))
              (if (i32.eq (local.get $sw) (i32.const 1))
                (then
                  ;; four columns at a time, then the rest one by one
                  (local.set $end (i32.sub (local.get $hi) (i32.const 3)))
                  (block $vectors_done
                    (loop $vectors
                      (br_if $vectors_done (i32.ge_s (local.get $q) (local.get $end)))
                      (local.set $a (i32.add (local.get $dst) (i32.shl (local.get $q) (i32.const 2))))
                      (local.set $b (i32.add (local.get $in) (i32.shl (local.get $q) (i32.const 2))))
                      (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (v128.load (local.get $b))))
                      (local.set $q (i32.add (local.get $q) (i32.const 4)))
                      (br $vectors)))))
              (block $scalars_done
                (loop $scalars
                  (br_if $scalars_done (i32.ge_u (local.get $q) (local.get $hi)))
                  (local.set $a (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $q) (local.get $sw)) (i32.const 2))))
                  (f32.store (local.get $a)
                    (f32.add (f32.load (local.get $a)) (f32.load (i32.add (local.get $in) (i32.shl (local.get $q) (i32.const 2))))))
                  (local.set $q (i32.add (local.get $q) (i32.const 1)))
                  (br $scalars)))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br $outRows)))
          (local.set $row (i32.add (local.get $row) (i32.shl (local.get $lds) (i32.const 2))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $tapColumns (i32.lt_u (local.get $j) (local.get $kw))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $tapRows (i32.lt_u (local.get $i) (local.get $kh))))
      (local.set $plane (i32.add (local.get $plane) (local.get $planeBytes)))
      (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
      (br_if $channels (i32.lt_u (local.get $ci) (local.get $c)))))

  ;; The taps of a pooling window that lie in the image: rows [iLo, iHi) of the window starting
  ;; at image row r0 (possibly negative, in the padding), of a window kh tall in an image h tall.
  (func $from (param $start i32) (result i32)
    (select (i32.const 0) (i32.sub (i32.const 0) (local.get $start)) (i32.ge_s (local.get $start) (i32.const 0))))
  (func $to (param $start i32) (param $k i32) (param $n i32) (result i32)
    (local $room i32)
    (local.set $room (i32.sub (local.get $n) (local.get $start)))
    (select (local.get $k) (local.get $room) (i32.lt_s (local.get $k) (local.get $room))))

  ;; Max pooling of $planes images [h, w] at $x into [ho, wo] at $y: window (r, q) covers rows
  ;; r*sh - top ... + kh - 1 and columns q*sw - left ... + kw - 1; the padding never wins, and NaN
  ;; does (f32.max).
  (func (export "maxpool")
    (param $x i32) (param $planes i32) (param $h i32) (param $w i32) (param $ho i32) (param $wo i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $top i32) (param $left i32) (param $y i32)
    (local $p i32) (local $r i32) (local $q i32) (local $r0 i32) (local $c0 i32) (local $iLo i32) (local $iHi i32)
    (local $jLo i32) (local $jHi i32) (local $i i32) (local $j i32) (local $row i32) (local $m f32) (local $planeBytes i32)
    (local.set $planeBytes (i32.shl (i32.mul (local.get $h) (local.get $w)) (i32.const 2)))
    (loop $planes_loop
      (local.set $r (i32.const 0))
      (loop $rows
        (local.set $r0 (i32.sub (i32.mul (local.get $r) (local.get $sh)) (local.get $top)))
        (local.set $iLo (call $from (local.get $r0)))
        (local.set $iHi (call $to (local.get $r0) (local.get $kh) (local.get $h)))
        (local.set $q (i32.const 0))
        (loop $columns
          (local.set $c0 (i32.sub (i32.mul (local.get $q) (local.get $sw)) (local.get $left)))
          (local.set $jLo (call $from (local.get $c0)))
          (local.set $jHi (call $to (local.get $c0) (local.get $kw) (local.get $w)))
          (local.set $m (f32.const -inf))
          (local.set $i (local.get $iLo))
          (block $taps_done
            (loop $tapRows
              (br_if $taps_done (i32.ge_s (local.get $i) (local.get $iHi)))
              (local.set $row (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (i32.add (local.get $r0) (local.get $i)) (local.get $w)) (local.get $c0)) (i32.const 2))))
              (local.set $j (local.get $jLo))
              (block $row_done
                (loop $tapColumns
                  (br_if $row_done (i32.ge_s (local.get $j) (local.get $jHi)))
                  (local.set $m (f32.max (local.get $m) (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
                  (local.set $j (i32.add (local.get $j) (i32.const 1)))
                  (br $tapColumns)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $tapRows)))
          (f32.store (local.get $y) (local.get $m))
          (local.set $y (i32.add (local.get $y) (i32.const 4)))
          (local.set $q (i32.add (local.get $q) (i32.const 1)))
          (br_if $columns (i32.lt_u (local.get $q) (local.get $wo))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $r) (local.get $ho))))
      (local.set $x (i32.add (local.get $x) (local.get $planeBytes)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $planes_loop (i32.lt_u (local.get $p) (local.get $planes)))))

  ;; Max pooling's gradient: each window's cotangent at $ct split evenly among the taps of the
  ;; images at $x equal to the window's maximum at $m, added into the images at $dx (zeroed by
  ;; the caller); a window whose maximum matches nothing (NaN) adds NaN to all its taps.
  (func (export "maxspread")
    (param $ct i32) (param $x i32) (param $m i32) (param $planes i32) (param $h i32) (param $w i32) (param $ho i32) (param $wo i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $top i32) (param $left i32) (param $dx i32)
    (local $p i32) (local $r i32) (local $q i32) (local $r0 i32) (local $c0 i32) (local $iLo i32) (local $iHi i32)
    (local $jLo i32) (local $jHi i32) (local $i i32) (local $j i32) (local $at i32) (local $hits i32) (local $pass i32)
    (local $max f32) (local $share f32) (local $planeBytes i32)
    (local.set $planeBytes (i32.shl (i32.mul (local.get $h) (local.get $w)) (i32.const 2)))
    (loop $planes_loop
      (local.set $r (i32.const 0))
      (loop $rows
        (local.set $r0 (i32.sub (i32.mul (local.get $r) (local.get $sh)) (local.get $top)))
        (local.set $iLo (call $from (local.get $r0)))
        (local.set $iHi (call $to (local.get $r0) (local.get $kh) (local.get $h)))
        (local.set $q (i32.const 0))
        (loop $columns
          (local.set $c0 (i32.sub (i32.mul (local.get $q) (local.get $sw)) (local.get $left)))
          (local.set $jLo (call $from (local.get $c0)))
          (local.set $jHi (call $to (local.get $c0) (local.get $kw) (local.get $w)))
          (local.set $max (f32.load (local.get $m)))
          ;; pass 0 counts the ties, pass 1 adds the shares
          (local.set $hits (i32.const 0))
          (local.set $pass (i32.const 0))
          (loop $passes
            (if (i32.eq (local.get $pass) (i32.const 1))
              (then
                (local.set $share
                  (if (result f32) (i32.eqz (local.get $hits))
                    (then (f32.const nan))
                    (else (f32.div (f32.load (local.get $ct)) (f32.convert_i32_u (local.get $hits))))))))
            (local.set $i (local.get $iLo))
            (block $taps_done
              (loop $tapRows
                (br_if $taps_done (i32.ge_s (local.get $i) (local.get $iHi)))
                (local.set $j (local.get $jLo))
                (block $row_done
                  (loop $tapColumns
                    (br_if $row_done (i32.ge_s (local.get $j) (local.get $jHi)))
                    ;; the tap's byte offset in its plane
                    (local.set $at (i32.shl (i32.add (i32.mul (i32.add (local.get $r0) (local.get $i)) (local.get $w)) (i32.add (local.get $c0) (local.get $j))) (i32.const 2)))
                    (if (i32.eqz (local.get $pass))
                      (then (local.set $hits (i32.add (local.get $hits) (f32.eq (f32.load (i32.add (local.get $x) (local.get $at))) (local.get $max)))))
                      (else
                        (if (i32.or (i32.eqz (local.get $hits)) (f32.eq (f32.load (i32.add (local.get $x) (local.get $at))) (local.get $max)))
                          (then
                            (f32.store (i32.add (local.get $dx) (local.get $at))
                              (f32.add (f32.load (i32.add (local.get $dx) (local.get $at))) (local.get $share)))))))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $tapColumns)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $tapRows)))
            (local.set $pass (i32.add (local.get $pass) (i32.const 1)))
            (br_if $passes (i32.lt_u (local.get $pass) (i32.const 2))))
          (local.set $ct (i32.add (local.get $ct) (i32.const 4)))
          (local.set $m (i32.add (local.get $m) (i32.const 4)))
          (local.set $q (i32.add (local.get $q) (i32.const 1)))
          (br_if $columns (i32.lt_u (local.get $q) (local.get $wo))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $r) (local.get $ho))))
      (local.set $x (i32.add (local.get $x) (local.get $planeBytes)))
      (local.set $dx (i32.add (local.get $dx) (local.get $planeBytes)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $planes_loop (i32.lt_u (local.get $p) (local.get $planes)))))

  ;; bias[o] added to each of the $rows rows of $cols floats at $at (a convolution's output, one row per filter)
  (func (export "bias") (param $at i32) (param $rows i32) (param $cols i32) (param $bias i32)
    (local $o i32) (local $end i32) (local $v f32) (local $vv v128)
    (block $done
      (loop $rows_loop
        (br_if $done (i32.ge_u (local.get $o) (local.get $rows)))
        (local.set $v (f32.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))))
        (local.set $vv (f32x4.splat (local.get $v)))
        (local.set $end (i32.add (local.get $at) (i32.shl (local.get $cols) (i32.const 2))))
        (block $vectors_done
          (loop $vectors
            (br_if $vectors_done (i32.gt_u (i32.add (local.get $at) (i32.const 16)) (local.get $end)))
            (v128.store (local.get $at) (f32x4.add (v128.load (local.get $at)) (local.get $vv)))
            (local.set $at (i32.add (local.get $at) (i32.const 16)))
            (br $vectors)))
        (block $scalars_done
          (loop $scalars
            (br_if $scalars_done (i32.ge_u (local.get $at) (local.get $end)))
            (f32.store (local.get $at) (f32.add (f32.load (local.get $at)) (local.get $v)))
            (local.set $at (i32.add (local.get $at) (i32.const 4)))
            (br $scalars)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $rows_loop))))

  ;; ---------------------------------------------------------------- 2x2 windows at stride 2
  ;; The common window (2x2, stride 2, no padding): the windows do not overlap, so each input
  ;; element is in at most one. Four windows at a time: two vectors of each of the window row's
  ;; two image rows (8 columns), then a scalar tail for the last wo mod 4 windows of a row.

  ;; maxpool for 2x2 windows at stride 2 without padding (f32.max: NaN wins, +0 over −0)
  (func (export "maxpool2")
    (param $x i32) (param $planes i32) (param $h i32) (param $w i32) (param $ho i32) (param $wo i32) (param $y i32)
    (local $p i32) (local $r i32) (local $q i32) (local $a i32) (local $rowBytes i32) (local $planeBytes i32) (local $vq i32)
    (local $b i32) (local $left v128) (local $right v128)
    (local.set $rowBytes (i32.shl (local.get $w) (i32.const 2)))
    (local.set $planeBytes (i32.mul (local.get $rowBytes) (local.get $h)))
    ;; the windows of a row done four at a time
    (local.set $vq (i32.and (local.get $wo) (i32.const -4)))
    (loop $planes_loop
      (local.set $r (i32.const 0))
      (loop $rows
        ;; a: the window row's top-left tap
        (local.set $a (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $rowBytes)) (i32.const 1))))
        (local.set $q (i32.const 0))
        (block $vectors_done
          (loop $vectors
            (br_if $vectors_done (i32.ge_u (local.get $q) (local.get $vq)))
            (local.set $b (i32.add (local.get $a) (local.get $rowBytes)))
            ;; the maximum of each column's two taps, then of each window's two columns
            (local.set $left (f32x4.max (v128.load (local.get $a)) (v128.load (local.get $b))))
            (local.set $right (f32x4.max (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b))))
            (v128.store (local.get $y)
              (f32x4.max (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $left) (local.get $right)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $left) (local.get $right))))
            (local.set $a (i32.add (local.get $a) (i32.const 32)))
            (local.set $y (i32.add (local.get $y) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 4)))
            (br $vectors)))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $q) (local.get $wo)))
            (f32.store (local.get $y)
              (f32.max
                (f32.max (f32.load (local.get $a)) (f32.load offset=4 (local.get $a)))
                (f32.max (f32.load (i32.add (local.get $a) (local.get $rowBytes))) (f32.load offset=4 (i32.add (local.get $a) (local.get $rowBytes))))))
            (local.set $a (i32.add (local.get $a) (i32.const 8)))
            (local.set $y (i32.add (local.get $y) (i32.const 4)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $tail)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $r) (local.get $ho))))
      (local.set $x (i32.add (local.get $x) (local.get $planeBytes)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $planes_loop (i32.lt_u (local.get $p) (local.get $planes)))))

  ;; One tap of maxspread2: the share where x at $at equals the maximum (or every tap of a NaN window), 0 elsewhere
  (func $tap (param $x i32) (param $dx i32) (param $at i32) (param $max f32) (param $share f32) (param $hits i32)
    (f32.store (i32.add (local.get $dx) (local.get $at))
      (select (local.get $share) (f32.const 0)
        (i32.or (i32.eqz (local.get $hits)) (f32.eq (f32.load (i32.add (local.get $x) (local.get $at))) (local.get $max))))))

  ;; maxspread for 2x2 windows at stride 2 without padding: the windows do not overlap, so every
  ;; tap of a window is stored (its share or 0), not added; the caller zeroes dx only where some
  ;; rows or columns lie outside every window
  (func (export "maxspread2")
    (param $ct i32) (param $x i32) (param $m i32) (param $planes i32) (param $h i32) (param $w i32) (param $ho i32) (param $wo i32) (param $dx i32)
    (local $p i32) (local $r i32) (local $q i32) (local $a i32) (local $b i32) (local $rowBytes i32) (local $planeBytes i32) (local $vq i32)
    (local $max f32) (local $share f32) (local $hits i32)
    (local $maxLo v128) (local $maxHi v128) (local $t0 v128) (local $t1 v128) (local $b0 v128) (local $b1 v128)
    (local $s0 v128) (local $s1 v128) (local $negHits v128) (local $none v128) (local $shares v128) (local $noneLo v128) (local $noneHi v128)
    (local.set $rowBytes (i32.shl (local.get $w) (i32.const 2)))
    (local.set $planeBytes (i32.mul (local.get $rowBytes) (local.get $h)))
    (local.set $vq (i32.and (local.get $wo) (i32.const -4)))
    (loop $planes_loop
      (local.set $r (i32.const 0))
      (loop $rows
        ;; a, b: byte offsets in the plane of the window's top-left and bottom-left taps
        (local.set $a (i32.shl (i32.mul (local.get $r) (local.get $rowBytes)) (i32.const 1)))
        (local.set $q (i32.const 0))
        (block $vectors_done
          (loop $vectors
            (br_if $vectors_done (i32.ge_u (local.get $q) (local.get $vq)))
            (local.set $b (i32.add (local.get $a) (local.get $rowBytes)))
            (local.set $maxLo (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 (v128.load (local.get $m)) (v128.load (local.get $m))))
            (local.set $maxHi (i8x16.shuffle 8 9 10 11 8 9 10 11 12 13 14 15 12 13 14 15 (v128.load (local.get $m)) (v128.load (local.get $m))))
            ;; all-ones lanes (−1 as integers) where a tap equals its window's maximum
            (local.set $t0 (f32x4.eq (v128.load (i32.add (local.get $x) (local.get $a))) (local.get $maxLo)))
            (local.set $t1 (f32x4.eq (v128.load offset=16 (i32.add (local.get $x) (local.get $a))) (local.get $maxHi)))
            (local.set $b0 (f32x4.eq (v128.load (i32.add (local.get $x) (local.get $b))) (local.get $maxLo)))
            (local.set $b1 (f32x4.eq (v128.load offset=16 (i32.add (local.get $x) (local.get $b))) (local.get $maxHi)))
            ;; −(ties) per window: per column, then the window's two columns
            (local.set $s0 (i32x4.add (local.get $t0) (local.get $b0)))
            (local.set $s1 (i32x4.add (local.get $t1) (local.get $b1)))
            (local.set $negHits (i32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $s0) (local.get $s1)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $s0) (local.get $s1))))
            (local.set $none (i32x4.eq (local.get $negHits) (v128.const i32x4 0 0 0 0)))
            (local.set $shares
              (v128.bitselect
                (v128.const f32x4 nan nan nan nan)
                (f32x4.div (v128.load (local.get $ct)) (f32x4.neg (f32x4.convert_i32x4_s (local.get $negHits))))
                (local.get $none)))
            (local.set $noneLo (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 (local.get $none) (local.get $none)))
            (local.set $noneHi (i8x16.shuffle 8 9 10 11 8 9 10 11 12 13 14 15 12 13 14 15 (local.get $none) (local.get $none)))
            (v128.store (i32.add (local.get $dx) (local.get $a))
              (v128.and (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 (local.get $shares) (local.get $shares)) (v128.or (local.get $t0) (local.get $noneLo))))
            (v128.store offset=16 (i32.add (local.get $dx) (local.get $a))
              (v128.and (i8x16.shuffle 8 9 10 11 8 9 10 11 12 13 14 15 12 13 14 15 (local.get $shares) (local.get $shares)) (v128.or (local.get $t1) (local.get $noneHi))))
            (v128.store (i32.add (local.get $dx) (local.get $b))
              (v128.and (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 (local.get $shares) (local.get $shares)) (v128.or (local.get $b0) (local.get $noneLo))))
            (v128.store offset=16 (i32.add (local.get $dx) (local.get $b))
              (v128.and (i8x16.shuffle 8 9 10 11 8 9 10 11 12 13 14 15 12 13 14 15 (local.get $shares) (local.get $shares)) (v128.or (local.get $b1) (local.get $noneHi))))
            (local.set $a (i32.add (local.get $a) (i32.const 32)))
            (local.set $ct (i32.add (local.get $ct) (i32.const 16)))
            (local.set $m (i32.add (local.get $m) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 4)))
            (br $vectors)))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $q) (local.get $wo)))
            (local.set $b (i32.add (local.get $a) (local.get $rowBytes)))
            (local.set $max (f32.load (local.get $m)))
            (local.set $hits
              (i32.add
                (i32.add (f32.eq (f32.load (i32.add (local.get $x) (local.get $a))) (local.get $max)) (f32.eq (f32.load offset=4 (i32.add (local.get $x) (local.get $a))) (local.get $max)))
                (i32.add (f32.eq (f32.load (i32.add (local.get $x) (local.get $b))) (local.get $max)) (f32.eq (f32.load offset=4 (i32.add (local.get $x) (local.get $b))) (local.get $max)))))
            (local.set $share
              (if (result f32) (i32.eqz (local.get $hits))
                (then (f32.const nan))
                (else (f32.div (f32.load (local.get $ct)) (f32.convert_i32_u (local.get $hits))))))
            (call $tap (local.get $x) (local.get $dx) (local.get $a) (local.get $max) (local.get $share) (local.get $hits))
            (call $tap (local.get $x) (local.get $dx) (i32.add (local.get $a) (i32.const 4)) (local.get $max) (local.get $share) (local.get $hits))
            (call $tap (local.get $x) (local.get $dx) (local.get $b) (local.get $max) (local.get $share) (local.get $hits))
            (call $tap (local.get $x) (local.get $dx) (i32.add (local.get $b) (i32.const 4)) (local.get $max) (local.get $share) (local.get $hits))
            (local.set $a (i32.add (local.get $a) (i32.const 8)))
            (local.set $ct (i32.add (local.get $ct) (i32.const 4)))
            (local.set $m (i32.add (local.get $m) (i32.const 4)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $tail)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $r) (local.get $ho))))
      (local.set $x (i32.add (local.get $x) (local.get $planeBytes)))
      (local.set $dx (i32.add (local.get $dx) (local.get $planeBytes)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $planes_loop (i32.lt_u (local.get $p) (local.get $planes)))))
)
