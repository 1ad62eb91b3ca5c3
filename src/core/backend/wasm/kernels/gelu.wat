;; Exact GELU and its derivative in one pass, 4 lanes at a time (wasm SIMD128), on another
;; module's memory (tfjs-backend-wasm's heap, imported): for n floats at x,
;;   y[i] = x·Φ(x),   d[i] = Φ(x) + x·φ(x),   Φ(x) = ½(1 + erf(x/√2)),  φ(x) = exp(−x²/2)/√(2π).
;; erf: Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7, the formula tfjs' own Erf kernels use),
;;   erf(z) = 1 − t(a1 + t(a2 + t(a3 + t(a4 + t·a5))))·exp(−z²),  t = 1/(1 + p|z|),
;; whose exp(−z²) with z = x/√2 is exactly φ's exp(−x²/2): one exp per element serves both.
;; exp(a), a ≤ 0: a = n·ln2 + r with n = round(a/ln2) (ln2 split in two for accuracy), then
;;   exp(r) by its degree-6 Taylor polynomial (|r| ≤ ln2/2: relative error < 2e-8) times 2^n
;;   built from the float's exponent bits. a is clamped at −87 (exp = 1.6e-38 ≈ 0 in float32).
;; The caller handles the n mod 4 tail in JavaScript (src/core/backend/wasm/gelu.ts).
(module
  (import "env" "memory" (memory 1))
  (func (export "gelu") (param $x i32) (param $y i32) (param $d i32) (param $n i32)
    (local $end i32) (local $v v128) (local $a v128) (local $fn v128) (local $r v128)
    (local $p v128) (local $e v128) (local $t v128) (local $poly v128) (local $erf v128)
    (local $cdf v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load align=4 (local.get $x)))
        ;; a = max(−x²/2, −87)
        (local.set $a (f32x4.max
          (f32x4.mul (f32x4.mul (local.get $v) (local.get $v)) (f32x4.splat (f32.const -0.5)))
          (f32x4.splat (f32.const -87.0))))
        ;; e = exp(a)
        (local.set $fn (f32x4.nearest (f32x4.mul (local.get $a) (f32x4.splat (f32.const 1.44269504088896341)))))
        (local.set $r (f32x4.sub
          (f32x4.sub (local.get $a) (f32x4.mul (local.get $fn) (f32x4.splat (f32.const 0.693145751953125))))
          (f32x4.mul (local.get $fn) (f32x4.splat (f32.const 1.428606765330187e-6)))))
        (local.set $p (f32x4.add (f32x4.splat (f32.const 0.16666666666666666))
          (f32x4.mul (local.get $r) (f32x4.add (f32x4.splat (f32.const 0.041666666666666664))
            (f32x4.mul (local.get $r) (f32x4.add (f32x4.splat (f32.const 0.008333333333333333))
              (f32x4.mul (local.get $r) (f32x4.splat (f32.const 0.001388888888888889)))))))))
        (local.set $p (f32x4.add (f32x4.splat (f32.const 1.0))
          (f32x4.mul (local.get $r) (f32x4.add (f32x4.splat (f32.const 1.0))
            (f32x4.mul (local.get $r) (f32x4.add (f32x4.splat (f32.const 0.5))
              (f32x4.mul (local.get $r) (local.get $p))))))))
        (local.set $e (f32x4.mul (local.get $p)
          (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $fn)) (i32x4.splat (i32.const 127))) (i32.const 23))))
        ;; erf(|x|/√2) = 1 − poly(t)·e
        (local.set $t (f32x4.div (f32x4.splat (f32.const 1.0))
          (f32x4.add (f32x4.splat (f32.const 1.0))
            (f32x4.mul (f32x4.abs (local.get $v)) (f32x4.splat (f32.const 0.2316418882663604)))))) ;; p/√2, p = 0.3275911
        (local.set $poly (f32x4.mul (local.get $t)
          (f32x4.add (f32x4.splat (f32.const 0.254829592))
            (f32x4.mul (local.get $t) (f32x4.add (f32x4.splat (f32.const -0.284496736))
              (f32x4.mul (local.get $t) (f32x4.add (f32x4.splat (f32.const 1.421413741))
                (f32x4.mul (local.get $t) (f32x4.add (f32x4.splat (f32.const -1.453152027))
                  (f32x4.mul (local.get $t) (f32x4.splat (f32.const 1.061405429))))))))))))
        (local.set $erf (f32x4.sub (f32x4.splat (f32.const 1.0)) (f32x4.mul (local.get $poly) (local.get $e))))
        ;; odd function: negate where x < 0
        (local.set $erf (v128.bitselect (f32x4.neg (local.get $erf)) (local.get $erf)
          (f32x4.lt (local.get $v) (f32x4.splat (f32.const 0.0)))))
        (local.set $cdf (f32x4.mul (f32x4.splat (f32.const 0.5)) (f32x4.add (f32x4.splat (f32.const 1.0)) (local.get $erf))))
        (v128.store align=4 (local.get $y) (f32x4.mul (local.get $v) (local.get $cdf)))
        (v128.store align=4 (local.get $d) (f32x4.add (local.get $cdf)
          (f32x4.mul (f32x4.mul (local.get $v) (local.get $e)) (f32x4.splat (f32.const 0.3989422804014327)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))
        (br $next)))))
