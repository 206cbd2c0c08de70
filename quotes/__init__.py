"""Requests for quotation: the committee asks several suppliers at once, suppliers quote from a phone
by a private link, the comparison shows the provably cheapest award, and the award opens a round."""
