/* trackerd-ids.h - journal MESSAGE_IDs of trackerd (see catalog/tracker.catalog). */
#pragma once

#define TRACKERD_MID_USE "e688de04482249208925797f3265cdb8"
#define TRACKERD_MID_BAD_DATAGRAM "4908c4064f324c4294326e698fe5501b"
#define TRACKERD_MID_STORE_FAILED "d6d2e1f78a484a75a7cf1971f3849d8f"
#define TRACKERD_MID_STARTED "b14c0d05ec2a4304bad28109fe982fc0"
#define TRACKERD_MID_STOPPED "53fb840c898a4d4ea5c79b99d861c0f4"
