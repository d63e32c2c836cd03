#include "kafka/client/error.h"

namespace sagasim::kafka {

std::string Error::code_name() const { return rd_kafka_err2name(code); }

std::string Error::to_string() const {
  std::string out = context.empty() ? std::string() : context + ": ";
  out += message.empty() ? std::string(rd_kafka_err2str(code)) : message;
  out += " (" + code_name() + ")";
  return out;
}

Error make_error(rd_kafka_resp_err_t code, std::string context, std::string message) {
  Error e;
  e.code = code;
  e.context = std::move(context);
  e.message = message.empty() ? std::string(rd_kafka_err2str(code)) : std::move(message);
  return e;
}

const Error& Status::error() const {
  if (!error_) throw InternalError("kafka::Status::error() called on a success");
  return *error_;
}

}  // namespace sagasim::kafka
