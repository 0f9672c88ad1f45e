"""The intake service: consultation requests and group bookings, with the privacy guard at the door."""
