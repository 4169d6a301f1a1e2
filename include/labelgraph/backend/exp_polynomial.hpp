#pragma once
/// \file
/// The constants of the float exp that the host backends write in their own
/// vector types (the cpu backend's `exp_packet_cephes` in Eigen packets, the
/// xtensor backend's `exp_nonpositive` in xsimd batches):
///
///   exp(x) = 2^n · exp(r),   n = round(x log2 e),   r = x − n ln 2,  |r| <= ln2 / 2
///   exp(r) ≈ 1 + r + r² q(r),   q(r) = Σ_{k=0..5} q_k r^k
///
/// q is Cephes' `expf` polynomial: at most about 1.2e-7 relative error over
/// the reduced range. n is rounded by the "magic number" addition
/// t = x log2 e + (1.5·2^23 + 127): t's low mantissa bits then hold n + 127,
/// and t's bits shifted left by 23 are the float 2^n (for n >= −126).
/// r is formed in two steps, ln 2 = ln2_high + ln2_low with ln2_high exact in
/// 9 bits, so that n · ln2_high is exact for every n of a float exp.

namespace labelgraph::detail::exp_polynomial {

inline constexpr float log2e = 1.44269504088896341f;
inline constexpr float ln2_high = 0.693359375f;
inline constexpr float ln2_low = -2.12194440e-4f;
/// 1.5·2^23 + 127.
inline constexpr float round_to_exponent = 12583039.0f;
/// q_0 .. q_5.
inline constexpr float q[6] = {5.0000001201e-1f, 1.6666665459e-1f, 4.1665795894e-2f,
                               8.3334519073e-3f, 1.3981999507e-3f, 1.9875691500e-4f};
/// ln 2^-126: below it exp(x) is under the smallest normal float.
inline constexpr float smallest_normal_log = -87.3365447505531f;

}  // namespace labelgraph::detail::exp_polynomial
