// Private: gives I/O adapters inside src/ the io_context behind an IoLoop.
#pragma once

#include <utility>  // Boost 1.74 awaitable.hpp needs std::exchange (g++ 12)

#include <boost/asio/io_context.hpp>

#include "peat/runtime/io_loop.hpp"

namespace peat::runtime {

boost::asio::io_context& asio_context(IoLoop& loop);

}  // namespace peat::runtime
