// The timeline: a QChartView whose axes are virtual time (ms) and lanes, with
// the steps drawn by one custom item rather than as QScatterSeries points.
//
// Why a custom item: Qt Charts makes a QGraphicsItem per scatter point, which
// takes seconds for 100,000 steps and is slow to repaint. The item below draws
// straight from the model with QPainter, and when zoomed out it aggregates:
// per lane and kind, one marker per few-pixel column however many steps fall
// there. Qt Charts still provides the axes, the legend (empty series that only
// carry a name, colour and shape), zooming and the rubber band.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <QChartView>

#include "viewer/trace_model.h"

QT_BEGIN_NAMESPACE
class QCategoryAxis;
class QValueAxis;
class QRubberBand;
QT_END_NAMESPACE

namespace sagasim::viewer {

class TimelineItem;

struct ViewFilter {
  std::array<bool, kStepKindCount> kinds;  // which step kinds to show
  int32_t service = -1;                    // index into TraceModel::services(); -1: all
  StrId type = kNoStr;                     // an event type; kNoStr: all
  bool only_order = false;                 // with an order selected: hide, not dim, the rest
  ViewFilter() { kinds.fill(true); }
};

struct PaintStats {
  double ms = 0;          // wall time of the last paint of the steps
  size_t markers = 0;     // markers drawn
  size_t considered = 0;  // steps looked at (in the visible window)
};

class TimelineView : public QChartView {
  Q_OBJECT

 public:
  explicit TimelineView(const TraceModel& model, QWidget* parent = nullptr);
  ~TimelineView() override;

  const TraceModel& model() const { return model_; }
  const ViewFilter& filter() const { return filter_; }
  void set_filter(const ViewFilter& f);

  // Highlights an order's saga path and dims everything else; "" clears.
  // Returns false for an order the trace does not have.
  bool select_order(const std::string& order);
  const std::string& selected_order() const { return order_; }
  // Zooms time to the selected order's saga path, with some context around it.
  void zoom_to_order();
  const std::vector<uint8_t>& on_path() const { return on_path_; }
  const std::vector<Link>& path_links() const { return links_; }

  std::optional<uint32_t> selected_step() const { return selected_step_; }
  void select_step(std::optional<uint32_t> step);

  void reset_zoom();
  void zoom_time(double factor, double centre_ms);  // factor < 1 zooms in
  void pan(double dx_px, double dy_px);

  bool visible(uint32_t step) const;  // passes the filters
  // The position of (time, lane) in the view's pixels, and the nearest
  // visible step to a pixel (within `radius` px).
  QPointF to_pixel(double ms, double lane) const;
  std::optional<uint32_t> step_at(QPointF view_pos, double radius = 8) const;
  QRectF plot_rect() const;  // the plot area in view pixels

  PaintStats last_paint() const;

  // What hovering shows: a step, or the fault intervals under a point.
  QString tooltip_for(uint32_t step) const;
  QString fault_tooltip_at(QPointF view_pos) const;

 signals:
  void step_clicked(quint32 step);
  void order_selected(const QString& order);  // by clicking a step of that order
  void view_changed();

 protected:
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void wheelEvent(QWheelEvent* e) override;
  void keyPressEvent(QKeyEvent* e) override;
  void resizeEvent(QResizeEvent* e) override;

 private:
  friend class TimelineItem;
  void update_x_labels();
  void set_tick_interval_for(double span_ms);
  void set_time_range(double a_ms, double b_ms);
  void update_lane_labels();

  const TraceModel& model_;
  ViewFilter filter_;
  std::string order_;
  std::vector<uint8_t> on_path_;  // per step: 1 on the selected order's saga path
  std::vector<Link> links_;
  std::optional<uint32_t> selected_step_;

  QValueAxis* x_axis_ = nullptr;
  QCategoryAxis* y_axis_ = nullptr;
  TimelineItem* item_ = nullptr;  // owned by the chart
  std::unique_ptr<QRubberBand> rubber_;
  QPoint press_pos_;
  QPoint last_drag_pos_;
  enum class Drag { None, Zoom, Pan } drag_ = Drag::None;
  double full_x0_ = 0, full_x1_ = 1;
  bool updating_labels_ = false;
};

}  // namespace sagasim::viewer
