// The viewer's window: the timeline, and beside it the controls (order,
// event type, service, step kinds), the clicked step's JSON and a summary.
#pragma once

#include <array>
#include <memory>

#include <QMainWindow>

#include "viewer/timeline_view.h"
#include "viewer/trace_model.h"

QT_BEGIN_NAMESPACE
class QCheckBox;
class QComboBox;
class QLabel;
class QPlainTextEdit;
class QSplitter;
QT_END_NAMESPACE

namespace sagasim::viewer {

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  MainWindow();
  ~MainWindow() override;

  // Loads a trace and shows it; on a bad trace shows the message in a dialog
  // and keeps what was shown before. Returns whether it loaded.
  bool open(const QString& path);
  void set_model(std::unique_ptr<TraceModel> model, double load_ms);
  TimelineView* view() const { return view_; }
  // As choosing it in the order box: highlight, and zoom to it unless `whole`.
  bool select_order(const QString& order, bool whole = false);

 private:
  void build_controls();
  void fill_controls();
  void apply_filter();
  void show_step(quint32 step);
  void choose_file();
  void export_png();

  std::unique_ptr<TraceModel> model_;
  TimelineView* view_ = nullptr;  // owned by the splitter; deleted before model_
  QSplitter* splitter_ = nullptr;
  QComboBox* order_box_ = nullptr;
  QCheckBox* only_order_ = nullptr;
  QComboBox* type_box_ = nullptr;
  QComboBox* service_box_ = nullptr;
  std::array<QCheckBox*, kStepKindCount> kind_boxes_{};
  QPlainTextEdit* details_ = nullptr;
  QLabel* summary_ = nullptr;
};

}  // namespace sagasim::viewer
