// An immutable list that events and records share instead of copying.
//
// A saga passes the same list from event to record to event: an order's lines
// go from PlaceOrder into the order record, OrderCreated, PaymentProcessed,
// the reservation and ItemsReserved. As std::vector each hop copied them, and
// every record kept its own copy until the end of the run. A SharedList is
// built once (from a vector or a brace list) and copied by reference count:
// one allocation holds the count and the elements, and a copy is 24 bytes.
// Nothing can change it once built; to change a list, build another:
//
//   OrderLines lines = {{"sku-1", 2, 500}};         // built once
//   Reservation r{order_id, lines, Held};           // shares it
//   std::vector<OrderLine> fewer(lines.begin(), lines.begin() + 1);
//
// Its JSON is the vector's (an array), in nlohmann and in the fast codec
// path (core/fast_json.h), so wire and stored bytes are the same either way.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

namespace sagasim {

template <class T>
class SharedList {
 public:
  using value_type = T;
  using const_iterator = const T*;

  SharedList() = default;
  SharedList(std::vector<T> items) : size_(items.size()) {  // NOLINT: a vector is a list
    if (items.empty()) return;
    std::shared_ptr<T[]> data = std::make_shared<T[]>(items.size());
    for (size_t i = 0; i < items.size(); ++i) data[i] = std::move(items[i]);
    data_ = std::move(data);
  }
  SharedList(std::initializer_list<T> items) : SharedList(std::vector<T>(items)) {}

  const T* begin() const { return data_.get(); }
  const T* end() const { return data_.get() + size_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](size_t i) const { return data_[i]; }
  const T& front() const { return data_[0]; }
  operator std::span<const T>() const { return {begin(), size_}; }  // NOLINT: a view of it

  bool operator==(const SharedList& other) const {
    return size_ == other.size_ && (data_ == other.data_ || std::equal(begin(), end(), other.begin()));
  }

 private:
  std::shared_ptr<const T[]> data_;
  size_t size_ = 0;
};

template <class T>
void to_json(nlohmann::json& j, const SharedList<T>& list) {
  j = nlohmann::json::array();
  for (const T& item : list) j.push_back(item);
}

template <class T>
void from_json(const nlohmann::json& j, SharedList<T>& list) {
  list = SharedList<T>(j.get<std::vector<T>>());
}

}  // namespace sagasim
