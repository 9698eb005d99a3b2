// ApiError: a failed App API request, carrying its HTTP status.
#ifndef KESTREL_HOST_API_API_ERROR_H_
#define KESTREL_HOST_API_API_ERROR_H_

#include <stdexcept>
#include <string>

namespace kestrel::host {

// Thrown by request handling; AppApi turns it into the response
// {"error": what(), "status": status()} with that HTTP status. `message` is
// one sentence that names the field or thing at fault and why.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_API_API_ERROR_H_
