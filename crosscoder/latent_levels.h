// The levels at which a latent's normalised decoder norm (its norm at a head
// over its largest norm at any head) reads as present and as absent: the
// emergence detector's defaults (detect/emergence.h: present from the
// threshold 0.5, absent below 0.5 − the hysteresis 0.2). The moves between
// updates that read presence from the norms (returning_latents.h,
// handover_latents.h, faded_rows.h) and the rare-feature evidence
// (emergence_evidence.h) use these, so that what they act on is what the
// daemon reports with its default [emergence] levels. A daemon
// configured with another threshold or hysteresis reports by those while
// these moves keep 0.5 and 0.3 (the crosscoder's options do not carry the
// detector's).
#ifndef CW_CROSSCODER_LATENT_LEVELS_H_
#define CW_CROSSCODER_LATENT_LEVELS_H_

namespace cw {

constexpr double kLatentOn = 0.5;
constexpr double kLatentOff = 0.3;

}  // namespace cw

#endif  // CW_CROSSCODER_LATENT_LEVELS_H_
