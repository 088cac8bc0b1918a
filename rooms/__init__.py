"""Rooms: the Room base class and its lifecycle, placement of instances, the tick loop, room kinds."""
