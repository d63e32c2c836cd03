// How each step kind looks on the timeline: one colour and one marker shape
// per kind (shape as well as colour, so kinds stay apart for colour-blind
// readers and in greyscale prints), and where in its lane the kind sits.
#pragma once

#include <array>

#include <QColor>

#include "viewer/trace_model.h"

namespace sagasim::viewer {

enum class Marker : uint8_t { Circle, Square, Diamond, Triangle };

struct KindStyle {
  QColor color;
  Marker marker;
  double lane_offset;  // in lanes, from the lane's centre; kinds get sub-rows so they do not hide each other
  double size;         // relative marker size
};

// Colours from the Tableau 10 palette: distinct, and exact in the PNG (the
// tests look for them).
inline const KindStyle& kind_style(StepKind k) {
  static const std::array<KindStyle, kStepKindCount> styles = {{
      {QColor(0x1f, 0x77, 0xb4), Marker::Square, 0.0, 1.0},     // publish   (on partition lanes)
      {QColor(0x17, 0xbe, 0xcf), Marker::Circle, -0.30, 0.9},   // deliver
      {QColor(0x2c, 0xa0, 0x2c), Marker::Circle, -0.12, 1.1},   // handle
      {QColor(0x94, 0x67, 0xbd), Marker::Circle, 0.06, 0.8},    // state
      {QColor(0x8c, 0x56, 0x4b), Marker::Square, 0.22, 0.8},    // commit
      {QColor(0xe3, 0x77, 0xc2), Marker::Circle, 0.34, 0.9},    // timer
      {QColor(0xbc, 0xbd, 0x22), Marker::Square, 0.34, 1.0},    // rebalance
      {QColor(0xd6, 0x27, 0x28), Marker::Diamond, 0.0, 1.7},    // fault
      {QColor(0x7f, 0x7f, 0x7f), Marker::Triangle, 0.34, 1.3},  // lifecycle
  }};
  return styles[static_cast<size_t>(k)];
}

// Fault intervals: the fault colour, translucent, under the points.
inline QColor fault_shade() { return QColor(0xd6, 0x27, 0x28, 48); }
// The links along a highlighted saga path.
inline QColor path_link_color() { return QColor(0x20, 0x20, 0x20, 190); }
// Alpha for steps outside a highlighted order.
inline constexpr int kDimAlpha = 40;

}  // namespace sagasim::viewer
