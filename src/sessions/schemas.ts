import { Type } from 'typebox'
import { PublicUserRef } from '../schemas/common.js'

export const MeSchema = Type.Object({
  user: PublicUserRef
}, { additionalProperties: false })

export const RefreshedSchema = Type.Object({
  status: Type.Literal('refreshed'),
  user: PublicUserRef
}, { additionalProperties: false })
