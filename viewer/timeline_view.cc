#include "viewer/timeline_view.h"

#include <algorithm>
#include <cmath>

#include <QCategoryAxis>
#include <QChart>
#include <QElapsedTimer>
#include <QGraphicsItem>
#include <QKeyEvent>
#include <QLegendMarker>
#include <QLocale>
#include <QMouseEvent>
#include <QPainter>
#include <QRubberBand>
#include <QScatterSeries>
#include <QToolTip>
#include <QValueAxis>
#include <QWheelEvent>

#include "core/trace_context.h"
#include "viewer/style.h"

namespace sagasim::viewer {

namespace {

constexpr double kBucketPx = 2.0;        // zoomed out, one marker per lane, kind and this many pixels
constexpr double kMinSpanMs = 0.001;     // one virtual microsecond: the trace's resolution
constexpr int kClickSlopPx = 4;          // a press that moves less than this is a click

double ms_of(const Step& s) { return static_cast<double>(s.t_us) / 1000.0; }

// A readable tick interval: 1, 2 or 5 times a power of ten, about `px` apart.
double nice_interval(double span, double width_px, double px = 110) {
  const double raw = span / std::max(1.0, width_px / px);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

void draw_markers(QPainter* p, const std::vector<QPointF>& pts, Marker marker, const QColor& color, double d) {
  if (pts.empty()) return;
  switch (marker) {
    case Marker::Circle:
    case Marker::Square:
      // One wide-pen drawPoints call per batch: the cheapest way to put many
      // markers down with the raster engine.
      p->setPen(QPen(color, d, Qt::SolidLine, marker == Marker::Circle ? Qt::RoundCap : Qt::SquareCap));
      p->drawPoints(pts.data(), static_cast<int>(pts.size()));
      break;
    case Marker::Diamond:
    case Marker::Triangle: {
      p->setPen(Qt::NoPen);
      p->setBrush(color);
      const double r = d / 2;
      for (const QPointF& c : pts) {
        if (marker == Marker::Diamond) {
          const QPointF poly[4] = {{c.x(), c.y() - r}, {c.x() + r, c.y()}, {c.x(), c.y() + r}, {c.x() - r, c.y()}};
          p->drawPolygon(poly, 4);
        } else {
          const QPointF poly[3] = {{c.x(), c.y() - r}, {c.x() + r, c.y() + r * 0.8}, {c.x() - r, c.y() + r * 0.8}};
          p->drawPolygon(poly, 3);
        }
      }
      p->setBrush(Qt::NoBrush);
      break;
    }
  }
}

}  // namespace

// Draws fault shading, the steps, and a highlighted saga path inside the plot
// area, reading the axes' ranges at paint time (so zooming is just a repaint).
class TimelineItem final : public QGraphicsItem {
 public:
  TimelineItem(TimelineView* view, QChart* chart) : QGraphicsItem(chart), view_(view), chart_(chart) {
    setZValue(10);  // above the grid, below nothing that matters (the legend is outside the plot)
    setAcceptedMouseButtons(Qt::NoButton);
  }
  QRectF boundingRect() const override { return chart_->plotArea(); }
  void geometry_changed() {
    prepareGeometryChange();
    update();
  }
  void paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) override;

  // The mapping from (ms, lane) to chart coordinates, for the current ranges.
  struct Mapping {
    QRectF plot;
    double x0, y0, px_per_ms, px_per_lane;
    double x(double ms) const { return plot.left() + (ms - x0) * px_per_ms; }
    double y(double lane) const { return plot.top() + (lane - y0) * px_per_lane; }
    double ms(double px) const { return x0 + (px - plot.left()) / px_per_ms; }
    double lane(double py) const { return y0 + (py - plot.top()) / px_per_lane; }
    double marker_px() const { return std::clamp(px_per_lane * 0.16, 2.5, 7.0); }
  };
  Mapping mapping() const;
  QPointF point_of(const Mapping& m, const Step& s) const {
    return {m.x(ms_of(s)), m.y(s.lane + kind_style(s.kind).lane_offset)};
  }

  PaintStats stats;

 private:
  TimelineView* view_;
  QChart* chart_;
};

TimelineItem::Mapping TimelineItem::mapping() const {
  Mapping m;
  m.plot = chart_->plotArea();
  m.x0 = view_->x_axis_->min();
  m.y0 = view_->y_axis_->min();
  const double xs = std::max(1e-9, view_->x_axis_->max() - m.x0);
  const double ys = std::max(1e-9, view_->y_axis_->max() - m.y0);
  m.px_per_ms = m.plot.width() / xs;
  m.px_per_lane = m.plot.height() / ys;
  return m;
}

void TimelineItem::paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) {
  QElapsedTimer timer;
  timer.start();
  const TraceModel& model = view_->model_;
  const auto& steps = model.steps();
  const auto& lanes = model.lanes();
  const Mapping m = mapping();
  if (m.plot.width() < 2 || m.plot.height() < 2) return;
  p->save();
  p->setClipRect(m.plot);
  p->setRenderHint(QPainter::Antialiasing, true);

  const double x1 = m.ms(m.plot.right());
  const int first_lane = std::max(0, static_cast<int>(std::floor(m.y0 + 0.5)));
  const int last_lane = std::min(static_cast<int>(lanes.size()) - 1, static_cast<int>(std::ceil(m.lane(m.plot.bottom()) - 0.5)));

  // Lane bands: a faint stripe on every other lane, and a rule where the
  // partition lanes start, so the eye can follow a lane across.
  for (int l = first_lane; l <= last_lane; ++l) {
    const QRectF band(m.plot.left(), m.y(l - 0.5), m.plot.width(), m.px_per_lane);
    if (l % 2 == 1) p->fillRect(band, QColor(0, 0, 0, 10));
    if (l > 0 && lanes[l].kind == LaneKind::Partition && lanes[l - 1].kind != LaneKind::Partition) {
      p->setPen(QPen(QColor(0, 0, 0, 90), 1, Qt::DashLine));
      p->drawLine(QPointF(m.plot.left(), band.top()), QPointF(m.plot.right(), band.top()));
    }
  }

  // Fault intervals under everything else, across every lane they affect.
  for (const FaultSpan& f : model.faults()) {
    if (!view_->visible(f.step)) continue;
    const double a = m.x(static_cast<double>(f.begin_us) / 1000.0), b = m.x(static_cast<double>(f.end_us) / 1000.0);
    if (b < m.plot.left() - 2 || a > m.plot.right() + 2) continue;
    for (int32_t l : f.lanes) {
      if (l < first_lane - 1 || l > last_lane + 1) continue;
      const double top = m.y(l - 0.45), h = m.px_per_lane * 0.9;
      if (f.interval) {
        p->fillRect(QRectF(a, top, std::max(b - a, 1.5), h), fault_shade());
      }
      // The onset, so even a short or open-ended fault shows on every lane it touches.
      p->setPen(QPen(QColor(0xd6, 0x27, 0x28, 150), 1.5));
      p->drawLine(QPointF(a, top), QPointF(a, top + h));
    }
  }

  // The steps. Zoomed out, many steps share a pixel column: per lane and kind
  // only the first step in each kBucketPx column is drawn (the rest would land
  // on the same pixels), which bounds the work by the view's size, not the trace's.
  const bool highlighting = !view_->order_.empty();
  const double margin_ms = 10 / m.px_per_ms;
  const auto t_lo = static_cast<int64_t>(std::floor((m.x0 - margin_ms) * 1000));
  const auto t_hi = static_cast<int64_t>(std::ceil((x1 + margin_ms) * 1000));
  std::array<std::vector<QPointF>, kStepKindCount> normal, dim;
  std::vector<uint32_t> bright;  // on the highlighted path: drawn last, every one
  size_t considered = 0, markers = 0;
  for (int l = first_lane - 1; l <= last_lane + 1; ++l) {
    if (l < 0 || l >= static_cast<int>(lanes.size())) continue;
    const auto& idx = lanes[static_cast<size_t>(l)].steps;
    auto it = std::lower_bound(idx.begin(), idx.end(), t_lo, [&](uint32_t i, int64_t t) { return steps[i].t_us < t; });
    std::array<int64_t, kStepKindCount> last_col;
    last_col.fill(INT64_MIN);
    for (; it != idx.end() && steps[*it].t_us <= t_hi; ++it) {
      ++considered;
      const uint32_t i = *it;
      if (!view_->visible(i)) continue;
      const Step& s = steps[i];
      if (highlighting && view_->on_path_[i]) {
        bright.push_back(i);
        continue;
      }
      const double x = m.x(ms_of(s));
      const auto col = static_cast<int64_t>(std::floor(x / kBucketPx));
      const auto k = static_cast<size_t>(s.kind);
      if (col == last_col[k]) continue;
      last_col[k] = col;
      // Faults are context for any order: never dimmed.
      const bool faded = highlighting && s.kind != StepKind::Fault;
      (faded ? dim : normal)[k].emplace_back(x, m.y(l + kind_style(s.kind).lane_offset));
    }
  }
  const double d = m.marker_px();
  for (size_t k = 0; k < kStepKindCount; ++k) {
    const KindStyle& st = kind_style(static_cast<StepKind>(k));
    QColor faded = st.color;
    faded.setAlpha(kDimAlpha);
    draw_markers(p, dim[k], st.marker, faded, d * st.size);
    draw_markers(p, normal[k], st.marker, st.color, d * st.size);
    markers += dim[k].size() + normal[k].size();
  }

  if (highlighting) {
    // The saga path: causal links first, then its steps on top, outlined.
    p->setPen(QPen(path_link_color(), 1.4));
    for (const Link& lk : view_->links_) {
      if (!view_->visible(lk.from) || !view_->visible(lk.to)) continue;
      const QPointF a = point_of(m, steps[lk.from]), b = point_of(m, steps[lk.to]);
      if (std::max(a.x(), b.x()) < m.plot.left() || std::min(a.x(), b.x()) > m.plot.right()) continue;
      p->drawLine(a, b);
    }
    std::array<std::vector<QPointF>, kStepKindCount> on;
    for (uint32_t i : bright) on[static_cast<size_t>(steps[i].kind)].push_back(point_of(m, steps[i]));
    for (size_t k = 0; k < kStepKindCount; ++k) {
      const KindStyle& st = kind_style(static_cast<StepKind>(k));
      draw_markers(p, on[k], st.marker, QColor(0x20, 0x20, 0x20), d * st.size * 1.35 + 2);
      draw_markers(p, on[k], st.marker, st.color, d * st.size * 1.35);
      markers += on[k].size();
    }
  }

  if (view_->selected_step_ && *view_->selected_step_ < steps.size()) {
    const QPointF c = point_of(m, steps[*view_->selected_step_]);
    p->setPen(QPen(Qt::black, 2));
    p->setBrush(Qt::NoBrush);
    p->drawEllipse(c, d + 4, d + 4);
  }
  p->restore();
  stats = PaintStats{static_cast<double>(timer.nsecsElapsed()) / 1e6, markers, considered};
}

TimelineView::TimelineView(const TraceModel& model, QWidget* parent) : QChartView(parent), model_(model) {
  auto* chart = new QChart();
  chart->setAnimationOptions(QChart::NoAnimation);
  chart->setMargins(QMargins(6, 6, 6, 6));
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->legend()->setShowToolTips(true);
  const TraceHeader& h = model_.header();
  chart->setTitle(QString("%1 · seed %2 · %3 steps · %4 lanes")
                      .arg(QString::fromStdString(h.scenario.empty() ? model_.name() : h.scenario))
                      .arg(h.seed)
                      .arg(QLocale(QLocale::English).toString(static_cast<qulonglong>(model_.steps().size())))
                      .arg(model_.lanes().size()));

  x_axis_ = new QValueAxis();
  x_axis_->setTitleText("virtual time (ms)");
  x_axis_->setTickType(QValueAxis::TicksDynamic);
  x_axis_->setTickAnchor(0);
  y_axis_ = new QCategoryAxis();
  y_axis_->setReverse(true);  // the first lane at the top
  y_axis_->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
  QFont lane_font = y_axis_->labelsFont();
  lane_font.setPointSizeF(model_.lanes().size() > 30 ? 7 : 8.5);
  y_axis_->setLabelsFont(lane_font);
  chart->addAxis(x_axis_, Qt::AlignBottom);
  chart->addAxis(y_axis_, Qt::AlignLeft);

  // The legend: empty series that carry only a name, a colour and a shape.
  for (int k = 0; k < kStepKindCount; ++k) {
    const KindStyle& st = kind_style(static_cast<StepKind>(k));
    auto* s = new QScatterSeries();
    s->setName(QString::fromLatin1(to_string(static_cast<StepKind>(k)).data()));
    s->setColor(st.color);
    s->setBorderColor(st.color);
    s->setMarkerSize(10);
    switch (st.marker) {
      case Marker::Circle: s->setMarkerShape(QScatterSeries::MarkerShapeCircle); break;
      case Marker::Square: s->setMarkerShape(QScatterSeries::MarkerShapeRectangle); break;
      case Marker::Diamond: s->setMarkerShape(QScatterSeries::MarkerShapeRotatedRectangle); break;
      case Marker::Triangle: s->setMarkerShape(QScatterSeries::MarkerShapeTriangle); break;
    }
    chart->addSeries(s);
    s->attachAxis(x_axis_);
    s->attachAxis(y_axis_);
  }
  auto* shade = new QScatterSeries();
  shade->setName("fault interval");
  shade->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
  shade->setColor(QColor(0xd6, 0x27, 0x28, 90));
  shade->setBorderColor(QColor(0xd6, 0x27, 0x28, 150));
  shade->setMarkerSize(12);
  chart->addSeries(shade);
  shade->attachAxis(x_axis_);
  shade->attachAxis(y_axis_);

  setChart(chart);  // the view owns the chart, the chart the axes, series and item
  setRenderHint(QPainter::Antialiasing, true);
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  setRubberBand(QChartView::NoRubberBand);  // our own: a click must stay a click
  rubber_ = std::make_unique<QRubberBand>(QRubberBand::Rectangle, this);

  item_ = new TimelineItem(this, chart);
  connect(chart, &QChart::plotAreaChanged, this, [this] {
    item_->geometry_changed();
    update_x_labels();
  });
  connect(x_axis_, &QValueAxis::rangeChanged, this, [this] {
    update_x_labels();
    item_->update();
    emit view_changed();
  });
  connect(y_axis_, &QValueAxis::rangeChanged, this, [this] {
    update_lane_labels();
    item_->update();
    emit view_changed();
  });

  const double pad = std::max(1.0, static_cast<double>(model_.end_us() - model_.begin_us()) / 1000.0 * 0.01);
  full_x0_ = static_cast<double>(model_.begin_us()) / 1000.0 - pad;
  full_x1_ = static_cast<double>(model_.end_us()) / 1000.0 + pad;
  on_path_.assign(model_.steps().size(), 0);
  reset_zoom();
  update_lane_labels();  // in case the range was already the full one
}

TimelineView::~TimelineView() = default;

PaintStats TimelineView::last_paint() const { return item_->stats; }

void TimelineView::reset_zoom() {
  set_time_range(full_x0_, full_x1_);
  y_axis_->setRange(-0.5, std::max<double>(0.5, static_cast<double>(model_.lanes().size()) - 0.5));
}

// A lane's label sits on its centre line. QCategoryAxis also draws the label
// of a category that only starts inside the range, outside the plot; so the
// axis carries only the lanes whose centre is in view, rebuilt as it scrolls.
void TimelineView::update_lane_labels() {
  if (updating_labels_) return;
  updating_labels_ = true;
  const double lo = y_axis_->min(), hi = y_axis_->max();
  for (const QString& label : y_axis_->categoriesLabels()) y_axis_->remove(label);
  const int first = std::max(0, static_cast<int>(std::ceil(lo - 1e-9)));
  const int last = std::min(static_cast<int>(model_.lanes().size()) - 1, static_cast<int>(std::floor(hi + 1e-9)));
  y_axis_->setStartValue(first - 1);
  for (int i = first; i <= last; ++i) y_axis_->append(QString::fromStdString(model_.lanes()[static_cast<size_t>(i)].name), i);
  if (y_axis_->min() != lo || y_axis_->max() != hi) y_axis_->setRange(lo, hi);  // appending may stretch it
  updating_labels_ = false;
}

void TimelineView::update_x_labels() { set_tick_interval_for(x_axis_->max() - x_axis_->min()); }

void TimelineView::set_tick_interval_for(double span) {
  const double width = chart()->plotArea().width();
  if (span <= 0 || width <= 0) return;
  const double step = nice_interval(span, width);
  if (step == x_axis_->tickInterval()) return;
  x_axis_->setTickInterval(step);
  const int decimals = std::clamp(static_cast<int>(-std::floor(std::log10(step))), 0, 3);
  x_axis_->setLabelFormat(QString("%.%1f").arg(decimals));
}

// Qt Charts lays out every tick of the interval it has: zooming out from a
// 0.1 ms interval to a 30 s range would briefly make 300,000 ticks. So the
// interval grows before the range does, and shrinks after it.
void TimelineView::set_time_range(double a, double b) {
  const double width = chart()->plotArea().width();
  const bool wider = width > 0 && nice_interval(b - a, width) > x_axis_->tickInterval();
  if (wider) set_tick_interval_for(b - a);
  x_axis_->setRange(a, b);
  if (!wider) set_tick_interval_for(b - a);
}

void TimelineView::set_filter(const ViewFilter& f) {
  filter_ = f;
  item_->update();
  emit view_changed();
}

bool TimelineView::visible(uint32_t i) const {
  const Step& s = model_.steps()[i];
  if (!filter_.kinds[static_cast<size_t>(s.kind)]) return false;
  // Faults stay as context under the other filters: they explain what the
  // steps around them do.
  if (s.kind == StepKind::Fault) return true;
  if (filter_.service >= 0 && s.service != filter_.service) return false;
  if (filter_.type != kNoStr && s.type != filter_.type) return false;
  if (filter_.only_order && !order_.empty() && !on_path_[i]) return false;
  return true;
}

bool TimelineView::select_order(const std::string& order) {
  std::fill(on_path_.begin(), on_path_.end(), 0);
  links_.clear();
  order_.clear();
  QString title = chart()->title();
  if (const auto cut = title.indexOf(" · order "); cut >= 0) title.truncate(cut);
  bool ok = true;
  if (!order.empty()) {
    const std::vector<uint32_t> path = model_.saga_path(order);
    if (path.empty()) {
      ok = false;
    } else {
      order_ = order;
      for (uint32_t i : path) on_path_[i] = 1;
      links_ = model_.links(path);
      title += QString(" · order %1 (%2 steps)").arg(QString::fromStdString(order)).arg(path.size());
    }
  }
  chart()->setTitle(title);
  item_->update();
  emit view_changed();
  return ok;
}

void TimelineView::zoom_to_order() {
  if (order_.empty()) return;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (size_t i = 0; i < on_path_.size(); ++i) {
    if (!on_path_[i]) continue;
    lo = std::min(lo, model_.steps()[i].t_us);
    hi = std::max(hi, model_.steps()[i].t_us);
  }
  // The path in the middle half of the view, with its surroundings for context.
  const double a = static_cast<double>(lo) / 1000.0, b = static_cast<double>(hi) / 1000.0;
  const double span = std::clamp((b - a) * 2, 10.0, full_x1_ - full_x0_);
  const double x0 = std::clamp((a + b) / 2 - span / 2, full_x0_, full_x1_ - span);
  set_time_range(x0, x0 + span);
}

void TimelineView::select_step(std::optional<uint32_t> step) {
  selected_step_ = step;
  item_->update();
}

QRectF TimelineView::plot_rect() const {
  const QRectF plot = chart()->plotArea();
  return QRectF(mapFromScene(chart()->mapToScene(plot.topLeft())), mapFromScene(chart()->mapToScene(plot.bottomRight())));
}

QPointF TimelineView::to_pixel(double ms, double lane) const {
  const auto m = item_->mapping();
  return mapFromScene(chart()->mapToScene(QPointF(m.x(ms), m.y(lane))));
}

std::optional<uint32_t> TimelineView::step_at(QPointF view_pos, double radius) const {
  const auto m = item_->mapping();
  const QPointF c = chart()->mapFromScene(mapToScene(view_pos.toPoint()));
  if (!m.plot.adjusted(-radius, -radius, radius, radius).contains(c)) return std::nullopt;
  const auto& steps = model_.steps();
  const auto& lanes = model_.lanes();
  const double ms = m.ms(c.x());
  const auto lane = static_cast<int>(std::lround(m.lane(c.y())));
  const auto t_lo = static_cast<int64_t>(std::floor((ms - radius / m.px_per_ms) * 1000));
  const auto t_hi = static_cast<int64_t>(std::ceil((ms + radius / m.px_per_ms) * 1000));
  std::optional<uint32_t> best;
  double best_d2 = radius * radius;
  for (int l = lane - 1; l <= lane + 1; ++l) {
    if (l < 0 || l >= static_cast<int>(lanes.size())) continue;
    const auto& idx = lanes[static_cast<size_t>(l)].steps;
    auto it = std::lower_bound(idx.begin(), idx.end(), t_lo, [&](uint32_t i, int64_t t) { return steps[i].t_us < t; });
    for (; it != idx.end() && steps[*it].t_us <= t_hi; ++it) {
      if (!visible(*it)) continue;
      const QPointF p = item_->point_of(m, steps[*it]);
      const double dx = p.x() - c.x(), dy = p.y() - c.y();
      const double d2 = dx * dx + dy * dy;
      // Ties (steps at the same time and place): prefer the highlighted path.
      if (d2 < best_d2 || (best && d2 == best_d2 && on_path_[*it] && !on_path_[*best])) {
        best_d2 = d2;
        best = *it;
      }
    }
  }
  return best;
}

QString TimelineView::tooltip_for(uint32_t i) const {
  const Step& s = model_.steps()[i];
  auto q = [&](StrId id) { return QString::fromUtf8(model_.str(id).data(), static_cast<qsizetype>(model_.str(id).size())); };
  QString text = QString("step %1 · %2 · %3\nt = %4 ms · lane %5")
                     .arg(s.step)
                     .arg(QString::fromLatin1(to_string(s.kind).data()))
                     .arg(q(s.actor))
                     .arg(ms_of(s), 0, 'f', 3)
                     .arg(QString::fromStdString(model_.lanes()[static_cast<size_t>(s.lane)].name));
  if (s.topic != kNoStr) {
    text += QString("\n%1-%2").arg(q(s.topic)).arg(s.partition);
    if (s.offset >= 0) text += QString(" @ offset %1").arg(s.offset);
  }
  if (s.event_id != kNoStr) {
    text += QString("\n%1 %2").arg(q(s.type), q(s.event_id));
    if (s.causation != kNoStr) text += QString(" (caused by %1)").arg(q(s.causation));
  }
  if (s.order != kNoStr) text += QString("\norder %1").arg(q(s.order));
  if (s.event_id != kNoStr && s.order != kNoStr) {
    // The W3C trace context the record carries in production (core/trace_context.h),
    // to find the same saga in a tracing backend.
    const std::string tp = "00-" + trace_id_of(model_.str(s.order)) + "-" + span_id_of(model_.str(s.event_id)) + "-01";
    text += QString("\ntraceparent %1").arg(QString::fromStdString(tp));
  }
  if (s.table != kNoStr) text += QString("\n%1/%2").arg(q(s.table), q(s.key));
  if (s.detail != kNoStr) {
    QString d = q(s.detail);
    if (d.size() > 160) d = d.left(157) + "...";
    text += QString("\n%1").arg(d);
  }
  // Zoomed out, one marker can stand for many steps: say so.
  const auto m = item_->mapping();
  const auto& idx = model_.lanes()[static_cast<size_t>(s.lane)].steps;
  const auto half = static_cast<int64_t>(std::ceil(kBucketPx / m.px_per_ms * 1000));
  auto lo = std::lower_bound(idx.begin(), idx.end(), s.t_us - half,
                             [&](uint32_t k, int64_t t) { return model_.steps()[k].t_us < t; });
  size_t near = 0;
  for (; lo != idx.end() && model_.steps()[*lo].t_us <= s.t_us + half; ++lo) near += visible(*lo) ? 1 : 0;
  if (near > 1) text += QString("\n(%1 steps within %2 px here: zoom in to tell them apart)").arg(near).arg(kBucketPx);
  return text;
}

QString TimelineView::fault_tooltip_at(QPointF view_pos) const {
  const auto m = item_->mapping();
  const QPointF c = chart()->mapFromScene(mapToScene(view_pos.toPoint()));
  if (!m.plot.contains(c)) return {};
  const double ms = m.ms(c.x());
  const auto lane = static_cast<int32_t>(std::lround(m.lane(c.y())));
  QStringList hits;
  for (const FaultSpan& f : model_.faults()) {
    if (!f.interval || !visible(f.step)) continue;
    if (ms * 1000 < static_cast<double>(f.begin_us) || ms * 1000 > static_cast<double>(f.end_us)) continue;
    if (!std::binary_search(f.lanes.begin(), f.lanes.end(), lane)) continue;
    const Step& s = model_.steps()[f.step];
    hits << QString("fault %1 (%2): %3 ms to %4 ms\n%5")
                .arg(QString::fromStdString(f.fault_class))
                .arg(QString::fromUtf8(model_.str(s.actor).data(), static_cast<qsizetype>(model_.str(s.actor).size())))
                .arg(static_cast<double>(f.begin_us) / 1000.0, 0, 'f', 1)
                .arg(static_cast<double>(f.end_us) / 1000.0, 0, 'f', 1)
                .arg(QString::fromUtf8(model_.str(s.detail).data(), static_cast<qsizetype>(model_.str(s.detail).size())));
  }
  return hits.join("\n");
}

void TimelineView::zoom_time(double factor, double centre_ms) {
  const double x0 = x_axis_->min(), x1 = x_axis_->max();
  const double full = full_x1_ - full_x0_;
  const double span = std::clamp((x1 - x0) * factor, kMinSpanMs, full);
  double a = centre_ms - (centre_ms - x0) * (span / (x1 - x0));
  a = std::clamp(a, full_x0_, full_x1_ - span);
  set_time_range(a, a + span);
}

void TimelineView::pan(double dx_px, double dy_px) {
  const auto m = item_->mapping();
  const double span = x_axis_->max() - x_axis_->min();
  const double a = std::clamp(x_axis_->min() - dx_px / m.px_per_ms, full_x0_, std::max(full_x0_, full_x1_ - span));
  set_time_range(a, a + span);
  const double lanes = static_cast<double>(model_.lanes().size());
  const double yspan = y_axis_->max() - y_axis_->min();
  const double b = std::clamp(y_axis_->min() - dy_px / m.px_per_lane, -0.5, std::max(-0.5, lanes - 0.5 - yspan));
  y_axis_->setRange(b, b + yspan);
}

void TimelineView::mousePressEvent(QMouseEvent* e) {
  press_pos_ = last_drag_pos_ = e->pos();
  QToolTip::hideText();
  if (e->button() == Qt::MiddleButton || (e->button() == Qt::LeftButton && (e->modifiers() & Qt::ControlModifier)))
    drag_ = Drag::Pan;
  else if (e->button() == Qt::LeftButton)
    drag_ = Drag::Zoom;
  e->accept();
}

void TimelineView::mouseMoveEvent(QMouseEvent* e) {
  if (drag_ == Drag::Pan) {
    const QPoint d = e->pos() - last_drag_pos_;
    last_drag_pos_ = e->pos();
    pan(d.x(), d.y());
  } else if (drag_ == Drag::Zoom) {
    if ((e->pos() - press_pos_).manhattanLength() > kClickSlopPx) {
      rubber_->setGeometry(QRect(press_pos_, e->pos()).normalized().intersected(plot_rect().toRect()));
      rubber_->show();
    }
  } else if (auto s = step_at(e->position())) {
    QToolTip::showText(e->globalPosition().toPoint(), tooltip_for(*s), this);
  } else if (QString f = fault_tooltip_at(e->position()); !f.isEmpty()) {
    QToolTip::showText(e->globalPosition().toPoint(), f, this);
  } else {
    QToolTip::hideText();
  }
  e->accept();
}

void TimelineView::mouseReleaseEvent(QMouseEvent* e) {
  const Drag was = drag_;
  drag_ = Drag::None;
  if (e->button() == Qt::RightButton) {
    zoom_time(2.0, item_->mapping().ms(chart()->mapFromScene(mapToScene(e->pos())).x()));
  } else if (was == Drag::Zoom && rubber_->isVisible()) {
    rubber_->hide();
    const QRect r = rubber_->geometry();
    const auto m = item_->mapping();
    auto chart_pt = [&](QPoint v) { return chart()->mapFromScene(mapToScene(v)); };
    const QPointF a = chart_pt(r.topLeft()), b = chart_pt(r.bottomRight());
    if (r.width() > kClickSlopPx) set_time_range(m.ms(a.x()), std::max(m.ms(b.x()), m.ms(a.x()) + kMinSpanMs));
    // A flat band zooms time only; a taller one zooms the lanes too.
    if (r.height() > 12) y_axis_->setRange(m.lane(a.y()), m.lane(b.y()));
  } else if (was == Drag::Zoom) {
    const auto s = step_at(e->position());
    select_step(s);
    if (s) {
      emit step_clicked(*s);
      const StrId order = model_.steps()[*s].order;
      if (order != kNoStr) {
        select_order(std::string(model_.str(order)));
        emit order_selected(QString::fromStdString(order_));
      }
    }
  }
  e->accept();
}

void TimelineView::wheelEvent(QWheelEvent* e) {
  const double steps = e->angleDelta().y() / 120.0;
  if (steps == 0) return;
  const auto m = item_->mapping();
  if (e->modifiers() & Qt::ShiftModifier) {
    pan(steps * m.plot.width() * 0.1, 0);
  } else {
    const double at = m.ms(chart()->mapFromScene(mapToScene(e->position().toPoint())).x());
    zoom_time(std::pow(0.8, steps), at);
  }
  e->accept();
}

void TimelineView::keyPressEvent(QKeyEvent* e) {
  const auto m = item_->mapping();
  const double centre = (x_axis_->min() + x_axis_->max()) / 2;
  switch (e->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal: zoom_time(0.5, centre); break;
    case Qt::Key_Minus: zoom_time(2.0, centre); break;
    case Qt::Key_Left: pan(m.plot.width() * 0.2, 0); break;
    case Qt::Key_Right: pan(-m.plot.width() * 0.2, 0); break;
    case Qt::Key_Up: pan(0, m.px_per_lane); break;
    case Qt::Key_Down: pan(0, -m.px_per_lane); break;
    case Qt::Key_Home:
    case Qt::Key_0: reset_zoom(); break;
    case Qt::Key_Escape:
      select_step(std::nullopt);
      select_order("");
      emit order_selected(QString());
      break;
    default: QChartView::keyPressEvent(e); return;
  }
  e->accept();
}

void TimelineView::resizeEvent(QResizeEvent* e) {
  QChartView::resizeEvent(e);
  update_x_labels();
}

}  // namespace sagasim::viewer
